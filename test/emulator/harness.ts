/** Small plain-fetch helpers for the emulator's conformance tests (an HTTP client independent of the CLI). */
import { connect } from "node:net";
import type { Emulator } from "./index.js";

export const JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

export interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  scope: string;
  owner_id: string;
  endpoint_id: string;
  session_id: string;
}

export interface ErrorBody {
  errorCode: string;
  message: string;
  error?: string;
  error_description?: string;
  errors: { errorCode: string; message: string; [key: string]: unknown }[];
}

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`;
}

/** POST a form to /restapi/oauth/<path> with the emulator's client credentials (unless overridden). */
export function oauthPost(
  emu: Emulator,
  path: "token" | "revoke",
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${emu.server}/restapi/oauth/${path}`, {
    method: "POST",
    headers: {
      authorization: basicAuth(emu.credentials.clientId, emu.credentials.clientSecret),
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body: new URLSearchParams(form).toString(),
  });
}

export async function login(emu: Emulator, extra: Record<string, string> = {}): Promise<TokenBody> {
  const res = await oauthPost(emu, "token", {
    grant_type: JWT_GRANT,
    assertion: emu.credentials.jwt,
    ...extra,
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

export function refresh(
  emu: Emulator,
  refreshToken: string,
  extra: Record<string, string> = {},
): Promise<Response> {
  return oauthPost(emu, "token", { grant_type: "refresh_token", refresh_token: refreshToken, ...extra });
}

/** GET with a bearer token; `url` may be a path on the API origin or an absolute URL. */
export function get(
  emu: Emulator,
  url: string,
  token?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const absolute = url.startsWith("http") ? url : `${emu.server}${url}`;
  return fetch(absolute, { headers: { ...(token && { authorization: `Bearer ${token}` }), ...headers } });
}

export const EXTENSION_INFO = "/restapi/v1.0/account/~/extension/~";
export const CALL_LOG = "/restapi/v1.0/account/~/call-log";

/** The nested error code of an error response (and the body, for more assertions). */
export async function errorOf(res: Response): Promise<ErrorBody> {
  return (await res.json()) as ErrorBody;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** How the connection ended: "end" (FIN) or the socket error code (e.g. ECONNRESET). */
  ending: string;
}

/**
 * A raw HTTP/1.1 GET over a socket with `Connection: close`, reading until the server closes. Unlike fetch,
 * it shows exactly what was sent: declared length, bytes received, and whether the close was clean or a reset.
 */
export function rawGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    const chunks: Buffer[] = [];
    const lines = Object.entries({ Host: target.host, Connection: "close", ...headers }).map(
      ([k, v]) => `${k}: ${v}`,
    );
    socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    const finish = (ending: string) => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no response head (${ending})`));
      const [statusLine = "", ...headerLines] = all.subarray(0, split).toString("latin1").split("\r\n");
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        parsed[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({
        status: Number(statusLine.split(" ")[1]),
        headers: parsed,
        body: all.subarray(split + 4),
        ending,
      });
    };
    socket.on("end", () => finish("end"));
    socket.on("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}
