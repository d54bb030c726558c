import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ping/${CHECK_ID}`,
    pings,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
