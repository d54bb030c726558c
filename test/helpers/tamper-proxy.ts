import { createServer, type IncomingHttpHeaders, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Emulator } from "../emulator/index.js";

/**
 * A misbehaving server for end-to-end tests: one origin in front of the emulator's API and media origins that
 * forwards every request, and lets a test answer any of them itself or change what the emulator answered. The
 * emulator stays the platform (tokens, sessions, call log, content); the test adds only the misbehaviour.
 * JSON answers have the emulator's origins rewritten to the proxy's, so `nextPage` and `contentUri` lead back
 * through it; paths ending in `/content` go to the media origin.
 */

export interface ProxiedRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface TamperContext {
  /** The emulator's answer to this request (buffered; JSON with origins rewritten). */
  forward(headers?: IncomingHttpHeaders): Promise<Answer>;
  res: ServerResponse;
}

/**
 * Handle one request: return an Answer to send, "handled" after writing `res` yourself, or undefined to send the
 * emulator's answer unchanged.
 */
export type Tamper = (
  req: ProxiedRequest,
  ctx: TamperContext,
) => Promise<Answer | "handled" | undefined> | Answer | "handled" | undefined;

export interface TamperProxy {
  origin: string;
  /** Every request seen, in order. */
  requests: ProxiedRequest[];
  /** Replace the tamper function (undefined = forward everything). */
  set(tamper: Tamper | undefined): void;
  stop(): Promise<void>;
}

export async function startTamperProxy(emu: Emulator, initial?: Tamper): Promise<TamperProxy> {
  let tamper = initial;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let origin = "";

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen: ProxiedRequest = {
        method: req.method ?? "GET",
        url: new URL(req.url ?? "/", origin),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(seen);
      const ctx: TamperContext = {
        res,
        forward: (headers) => forward(emu, origin, seen, headers ?? seen.headers),
      };
      void (async () => {
        const answer = tamper ? await tamper(seen, ctx) : undefined;
        if (answer === "handled") return;
        send(res, answer ?? (await ctx.forward()));
      })().catch(() => res.destroy());
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    set: (next) => {
      tamper = next;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export function send(res: ServerResponse, answer: Answer): void {
  const headers = { ...answer.headers };
  delete headers["transfer-encoding"];
  delete headers.connection;
  if (!("content-length" in headers)) headers["content-length"] = String(answer.body.length);
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}

/** A JSON answer (status 200 unless given). */
export function json(value: unknown, status = 200): Answer {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/**
 * A 200 JSON body that never ends: `chunk` again and again, as fast as the client reads (a server streaming
 * without end). Returns how many bytes went out so far.
 */
export function endlessJson(res: ServerResponse, chunk: Buffer): { readonly sent: number } {
  const progress = { sent: 0 };
  res.writeHead(200, { "content-type": "application/json" });
  const pump = () => {
    while (!res.destroyed && res.write(chunk)) progress.sent += chunk.length;
    if (!res.destroyed) res.once("drain", pump);
  };
  res.on("close", () => res.removeAllListeners("drain"));
  pump();
  return progress;
}

export function parseJson<T = Record<string, unknown>>(answer: Answer): T {
  return JSON.parse(answer.body.toString("utf8")) as T;
}

function forward(
  emu: Emulator,
  origin: string,
  req: ProxiedRequest,
  headers: IncomingHttpHeaders,
): Promise<Answer> {
  const upstream = new URL(req.url.pathname.endsWith("/content") ? emu.media : emu.server);
  const target = new URL(req.url.pathname + req.url.search, upstream);
  return new Promise((resolve, reject) => {
    const out = request(
      target,
      { method: req.method, headers: { ...headers, host: target.host } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          let body = Buffer.concat(chunks);
          const headersOut: Answer["headers"] = { ...response.headers };
          if (String(response.headers["content-type"] ?? "").includes("json")) {
            body = Buffer.from(
              body.toString("utf8").replaceAll(emu.server, origin).replaceAll(emu.media, origin),
            );
            headersOut["content-length"] = String(body.length);
          }
          resolve({ status: response.statusCode ?? 502, headers: headersOut, body });
        });
      },
    );
    out.on("error", reject);
    out.end(req.body);
  });
}
