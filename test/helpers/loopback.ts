import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A test's HTTP server, listening on an ephemeral loopback port. */
export interface Listening {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Ends every connection first (a peer that holds one open must not keep the test waiting), then closes. */
  stop(): Promise<void>;
}

/** Listen on 127.0.0.1 at a port the system picks: the origin to reach `server` and the way to stop it. */
export async function listenOnLoopback(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
