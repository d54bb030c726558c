import { createServer, type IncomingMessage, type Server } from "node:http";
import { listenOnLoopback } from "./loopback.js";

export interface Ping {
  method: string;
  path: string;
  body: string;
}

/** The path of every check URL a listener hands out: a secret, so no output may contain it. */
export const CHECK_ID = "5f3c9a7e-check-uuid";

/**
 * A monitoring service (healthchecks.io-like) on loopback that records every ping; `answer: false` never answers.
 * `close()` also drops the connections a silent listener left hanging.
 */
export async function pingListener(
  answer = true,
): Promise<{ url: string; pings: Ping[]; close: () => Promise<void> }> {
  const pings: Ping[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => {
      body += d;
    });
    req.on("end", () => {
      pings.push({ method: req.method ?? "", path: req.url ?? "", body });
      if (answer) res.end("OK");
    });
  });
  const { origin, stop } = await listenOnLoopback(server);
  return { url: `${origin}/ping/${CHECK_ID}`, pings, close: stop };
}
