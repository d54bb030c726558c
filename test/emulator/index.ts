import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { handleApi, handleMedia } from "./api.js";
import { createControl, type EmulatorControl } from "./control.js";
import { sendError, sleep } from "./http-util.js";
import { handleCdn } from "./media.js";
import { type EmulatorOptions, resolveOptions } from "./options.js";
import { EmulatorState } from "./state.js";
import type { EmulatorStats } from "./stats.js";
import { makeTlsMaterial, type TlsMaterial } from "./tls.js";

export type { EmulatorControl, RecordingSummary } from "./control.js";
export type { CutFault, FaultSelector, Faults, UnavailableFault } from "./faults.js";
export type { CallPlan, PlannedCall } from "./live-calls.js";
export type {
  EmulatorApp,
  EmulatorExtension,
  EmulatorOptions,
  EmulatorUser,
  RateLimitConfig,
  RateLimitGroup,
  RateLimitOptions,
  WebSocketConfig,
} from "./options.js";
export { DEFAULT_EXTENSIONS, DEFAULT_RATE_LIMITS, DEMO_CREDENTIALS } from "./options.js";
export type { EmulatorStats, StatsSnapshot } from "./stats.js";

export interface Emulator {
  /** API origin, e.g. "http://127.0.0.1:43121" (no trailing slash). */
  server: string;
  /** Media origin (separate port), where recording content lives. */
  media: string;
  /** CDN origin (separate port): where `redirectContent` sends content requests, without a token. */
  cdn: string;
  /** With `tls`: the throw-away CA certificate (PEM) the clients must trust, and a file holding it. */
  ca: string | undefined;
  caFile: string | undefined;
  /** The demo credentials of the first app and user. */
  credentials: { clientId: string; clientSecret: string; jwt: string };
  /** Live counters (read at any time; `snapshot()` for a copy, `reset()` to zero). */
  stats: EmulatorStats;
  control: EmulatorControl;
  /** Close both servers and destroy open sockets. */
  stop(): Promise<void>;
}

type Handler = (state: EmulatorState, req: IncomingMessage, res: ServerResponse) => Promise<void>;

function serve(
  state: EmulatorState,
  handler: Handler,
  tls: TlsMaterial | undefined,
): { server: Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const run = async () => {
      const { latencyMs: latency, clockSkewMs: skew } = state.faults.current;
      if (skew) res.setHeader("Date", new Date(Date.now() + skew).toUTCString());
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
  };
  const server: Server = tls
    ? createTlsServer({ keepAlive: true, key: tls.keyPem, cert: tls.certPem }, listener)
    : createServer({ keepAlive: true }, listener);
  // The TCP socket, also under TLS: destroying it ends a connection whose handshake never finished, too.
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return { server, sockets };
}

/** Listen; resolves with the origin to advertise: the scheme, `hostName` (else the address), the port. */
function listen(
  server: Server,
  host: string,
  port: number,
  secure: boolean,
  hostName: string | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const hostPart = hostName ?? (address.family === "IPv6" ? `[${address.address}]` : address.address);
      resolve(`${secure ? "https" : "http"}://${hostPart}:${address.port}`);
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
  const names = [config.apiHostName, config.mediaHostName, config.cdnHostName, config.host];
  const tls = config.tls
    ? makeTlsMaterial(names.filter((name): name is string => name !== undefined))
    : undefined;
  const api = serve(state, handleApi, tls);
  const media = serve(state, handleMedia, tls);
  const cdn = serve(state, handleCdn, tls);
  const servers = [api, media, cdn];
  // The WebSocket gateway shares the API origin's server: ws:// beside http://, wss:// beside https://.
  api.server.on("upgrade", (req, socket, head) => state.gateway.handleUpgrade(req, socket, head));
  try {
    state.apiOrigin = await listen(api.server, config.host, config.port, !!tls, config.apiHostName);
    state.mediaOrigin = await listen(
      media.server,
      config.host,
      config.mediaPort,
      !!tls,
      config.mediaHostName,
    );
    state.cdnOrigin = await listen(cdn.server, config.host, 0, !!tls, config.cdnHostName);
  } catch (error) {
    await Promise.all(servers.filter((s) => s.server.listening).map((s) => close(s.server, s.sockets)));
    tls?.cleanup();
    throw error;
  }
  const app = config.apps[0];
  const user = config.users[0];
  if (!app || !user) throw new Error("at least one app and one user are required");
  return {
    server: state.apiOrigin,
    media: state.mediaOrigin,
    cdn: state.cdnOrigin,
    ca: tls?.caPem,
    caFile: tls?.caFile,
    credentials: { clientId: app.clientId, clientSecret: app.clientSecret, jwt: user.jwt },
    stats: state.stats,
    control: createControl(state),
    stop: async () => {
      state.callMaker.stop();
      state.gateway.close();
      await Promise.all(servers.map((s) => close(s.server, s.sockets)));
      tls?.cleanup();
    },
  };
}
