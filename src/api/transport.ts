import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { createResponse } from "./response.js";
import type { ApiResponse } from "./types.js";

// Required, not imported: on Node 22 and later an ESM import of node:http builds a namespace of every export,
// and reading the lazy WebSocket/MessageEvent exports loads all of undici — the cost this transport avoids.
const require = createRequire(import.meta.url);
const { Agent: HttpAgent, request: httpRequest } = require("node:http") as typeof import("node:http");
const { Agent: HttpsAgent, request: httpsRequest } = require("node:https") as typeof import("node:https");

export interface TransportRequest {
  /** GET unless said otherwise; a POST sends no body (the ws-token endpoint needs none). */
  method?: "GET" | "POST";
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the transport's idle timeout for this request. */
  idleTimeoutMs?: number;
}

/**
 * Sends one GET (or a body-less POST) and resolves once the response headers are there (body unread). Rejects with the signal's
 * reason on abort, or with the socket's error (ECONNREFUSED, ECONNRESET, timeout ...). No redirects: the
 * ApiClient follows them itself, re-checking each host.
 */
export type Transport = (url: URL, request: TransportRequest) => Promise<ApiResponse>;

/**
 * No response headers, or no body bytes, for this long: the socket is given up. The same bound undici's fetch
 * applies by default (headersTimeout, bodyTimeout), so a server that never answers cannot hang a run.
 */
const IDLE_TIMEOUT_MS = 300_000;

/**
 * Node's own `http`/`https` with keep-alive agents rather than the global `fetch`: undici's WebAssembly parser
 * and web-stream chunks cost 10-25 MiB of resident memory on a large download, which this client cannot spare.
 */
export function createHttpTransport(options: { idleTimeoutMs?: number } = {}): Transport {
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const defaultTimeout = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  return (url, { method = "GET", headers, signal, idleTimeoutMs }) =>
    new Promise<ApiResponse>((resolve, reject) => {
      const timeout = idleTimeoutMs ?? defaultTimeout;
      const secure = url.protocol === "https:";
      const send = secure ? httpsRequest : httpRequest;
      const req = send(url, {
        method,
        headers: method === "POST" ? { ...headers, "Content-Length": "0" } : headers,
        agent: secure ? agents.https : agents.http,
        timeout,
        ...(signal ? { signal } : {}),
      });
      req.on("timeout", () => req.destroy(new TimeoutError(timeout)));
      req.on("error", (error) => reject(signal?.aborted ? signal.reason : error));
      req.on("response", (res: IncomingMessage) => {
        // A reset after the headers surfaces on the body stream, where the reader sees it.
        resolve(
          createResponse({ status: res.statusCode ?? 0, url: url.href, headers: res.headers, body: res }),
        );
      });
      req.end();
    });
}

class TimeoutError extends Error {
  readonly code = "ETIMEDOUT";

  constructor(ms: number) {
    super(`no data for ${Math.round(ms / 1000)} s`);
  }
}
