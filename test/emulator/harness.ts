/** Small plain-fetch helpers for the emulator's conformance tests (an HTTP client independent of the CLI). */
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
