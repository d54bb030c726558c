import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { handleApi, handleMedia } from "./api.js";
import { createControl, type EmulatorControl } from "./control.js";
import { sendError, sleep } from "./http-util.js";
import { type EmulatorOptions, resolveOptions } from "./options.js";
import { EmulatorState } from "./state.js";
import type { EmulatorStats } from "./stats.js";

export type { EmulatorControl, RecordingSummary } from "./control.js";
export type { CutFault, FaultSelector, Faults, UnavailableFault } from "./faults.js";
export type {
  EmulatorApp,
  EmulatorOptions,
  EmulatorUser,
  RateLimitConfig,
  RateLimitGroup,
  RateLimitOptions,
} from "./options.js";
export { DEFAULT_RATE_LIMITS, DEMO_CREDENTIALS } from "./options.js";
export type { EmulatorStats, StatsSnapshot } from "./stats.js";

export interface Emulator {
  /** API origin, e.g. "http://127.0.0.1:43121" (no trailing slash). */
  server: string;
  /** Media origin (separate port), where recording content lives. */
  media: string;
  /** The demo credentials of the first app and user. */
  credentials: { clientId: string; clientSecret: string; jwt: string };
  /** Live counters (read at any time; `snapshot()` for a copy, `reset()` to zero). */
  stats: EmulatorStats;
  control: EmulatorControl;
  /** Close both servers and destroy open sockets. */
  stop(): Promise<void>;
}

type Handler = (state: EmulatorState, req: IncomingMessage, res: ServerResponse) => Promise<void>;

function serve(state: EmulatorState, handler: Handler): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = createServer({ keepAlive: true }, (req, res) => {
    const run = async () => {
      const latency = state.faults.current.latencyMs;
      if (latency) await sleep(latency);
      await handler(state, req, res);
    };
    run().catch((error: unknown) => {
      if (!res.headersSent) {
        sendError(res, {
          status: 500,
          errorCode: "CMN-500",
          message: `Emulator error: ${(error as Error).message}`,
        });
      } else {
        res.destroy();
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return { server, sockets };
}

function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve(`http://${hostPart}:${address.port}`);
    });
  });
}

function close(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });
}

/** Start the API and media servers; both listen before this resolves. */
export async function start(options?: EmulatorOptions): Promise<Emulator> {
  const config = resolveOptions(options);
  const state = new EmulatorState(config);
  const api = serve(state, handleApi);
  const media = serve(state, handleMedia);
  state.apiOrigin = await listen(api.server, config.host, config.port);
  try {
    state.mediaOrigin = await listen(media.server, config.host, config.mediaPort);
  } catch (error) {
    await close(api.server, api.sockets);
    throw error;
  }
  const app = config.apps[0];
  const user = config.users[0];
  if (!app || !user) throw new Error("at least one app and one user are required");
  return {
    server: state.apiOrigin,
    media: state.mediaOrigin,
    credentials: { clientId: app.clientId, clientSecret: app.clientSecret, jwt: user.jwt },
    stats: state.stats,
    control: createControl(state),
    stop: async () => {
      await Promise.all([close(api.server, api.sockets), close(media.server, media.sockets)]);
    },
  };
}
