import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type AddressInfo, createServer, type Socket } from "node:net";
import type { CliResult, spawnCli } from "./cli.js";
import { listenOnLoopback } from "./loopback.js";

/**
 * Peers that stop answering, and the one way the tests stop a CLI stuck on one: the "nothing ever hangs" tests
 * (test/e2e/unattended/never-hang.test.ts, the stalled-store tests) share them.
 */

/** Poll `reached` every 50 ms; fail naming `what` after `timeoutMs`. */
export async function waitUntil(reached: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!reached()) {
    if (Date.now() > deadline) throw new Error(`never reached: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Once `reached` holds, SIGTERM the CLI; its result and the time from the signal to its exit. The CLI's own
 * timeout guard (spawnCli's) turns a hang into `signal: "SIGKILL"`, which every caller's exit-code check catches.
 */
export async function sigtermOnce(
  spawned: ReturnType<typeof spawnCli>,
  reached: () => boolean,
  what: string,
): Promise<CliResult & { ms: number }> {
  await waitUntil(reached, what);
  const sentAt = Date.now();
  spawned.child.kill("SIGTERM");
  const result = await spawned.result;
  return { ...result, ms: Date.now() - sentAt };
}

export interface SilentPeer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Connections (or requests) it accepted and left hanging. */
  held: number;
  stop(): Promise<void>;
}

/** A TCP server that accepts every connection, reads what it is sent, and never writes a byte. */
export async function startSilentServer(): Promise<SilentPeer> {
  const sockets = new Set<Socket>();
  const peer: SilentPeer = { origin: "", held: 0, stop: async () => undefined };
  const server = createServer((socket) => {
    peer.held += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  peer.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer.stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return peer;
}

/** An HTTP server that answers every request's headers (200, a body announced) and then never sends the body. */
export async function startStallingBodyServer(): Promise<SilentPeer> {
  const held = new Set<ServerResponse>();
  const peer: SilentPeer = { origin: "", held: 0, stop: async () => undefined };
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    peer.held += 1;
    held.add(res);
    res.writeHead(200, { "content-type": "text/plain", "content-length": "1000" });
    res.flushHeaders();
  });
  const listening = await listenOnLoopback(server);
  peer.origin = listening.origin;
  peer.stop = listening.stop;
  return peer;
}
