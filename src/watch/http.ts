import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.js";
import { redact } from "../log/redact.js";
import type { HealthStatus } from "./health.js";
import type { ListenAddress } from "./listen-address.js";

// Required, not imported, for the reason in api/transport.ts: on Node 22+ an ESM import of node:http loads all
// of undici, which a watch (a process that lives for weeks) does not need to carry.
const require = createRequire(import.meta.url);
const { createServer } = require("node:http") as typeof import("node:http");

export interface StatusEndpoints {
  health(): HealthStatus;
  metrics(): Promise<{ contentType: string; text: string }>;
}

export interface StatusServer {
  /** Where it listens, as `host:port` (the port the system chose for port 0). */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serve GET /healthz (200 or 503, a JSON body with the reason) and GET /metrics (Prometheus text) on `address`.
 * A bind error (port in use, address not local, no permission) is bad input: one line, exit 2.
 */
export async function serveStatus(address: ListenAddress, endpoints: StatusEndpoints): Promise<StatusServer> {
  const server = createServer((req, res) => {
    answer(req, res, endpoints).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", `${(error as Error).message}\n`);
      else res.destroy();
    });
  });
  // Monitors poll; a slow or stuck client must not hold a socket open for ever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new UsageError(
          `--listen ${shown(address)}: cannot listen there (${error.code ?? error.message}${hint(error.code)})`,
        ),
      );
    };
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: shown({ host: address.host, port: bound.port }),
    close: () => closeServer(server),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, endpoints: StatusEndpoints): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "text/plain; charset=utf-8", "use GET\n", { Allow: "GET, HEAD" });
    return;
  }
  if (path === "/healthz") {
    const status = endpoints.health();
    send(res, status.healthy ? 200 : 503, "application/json", `${JSON.stringify(status)}\n`);
    return;
  }
  if (path === "/metrics") {
    const { contentType, text } = await endpoints.metrics();
    send(res, 200, contentType, text);
    return;
  }
  send(res, 404, "text/plain; charset=utf-8", "not found: GET /healthz or /metrics\n");
}

/**
 * Answer one request. The body passes the redactor like every line the process writes: a health reason is an
 * error message from the network, which may quote a URL or header a secret travelled in.
 */
function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string,
  headers: Record<string, string> = {},
): void {
  const body = redact(text);
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function shown(address: ListenAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function hint(code: string | undefined): string {
  if (code === "EADDRINUSE") return ": another process uses this port";
  if (code === "EADDRNOTAVAIL") return ": not an address of this machine";
  if (code === "EACCES") return ": ports below 1024 need privileges";
  return "";
}
