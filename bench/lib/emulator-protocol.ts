import type { CallPlan, EmulatorOptions, StatsSnapshot } from "../../test/emulator/index.js";

/** One HTTP exchange seen by the emulator host, timed where the server saw it. */
export interface TimelineEntry {
  /** ms since the epoch when the request arrived. */
  at: number;
  /** ms since the epoch when the response finished (undefined: the client went away first). */
  end: number | undefined;
  method: string;
  path: string;
  status: number | undefined;
}

/** Options that survive a trip over IPC (no functions). */
export type HostOptions = Omit<EmulatorOptions, "recordingBytes" | "dataset"> & { recordingBytes?: number };

/** Control actions the benchmark needs, with their arguments. */
export type ControlCall =
  | { action: "expireAccessTokens" }
  | { action: "recordings" }
  | { action: "startRetention"; everyMs: number; afterMs: number }
  | { action: "retentionDeleted" }
  | { action: "resetStats" }
  | { action: "setRateLimits"; limits: EmulatorOptions["rateLimits"] }
  /** Calls made now (telephony events on the gateway; records `callLogDelayMs` after they end). */
  | { action: "startCalls"; plan: CallPlan }
  /** Drop every open WebSocket connection without a close frame. */
  | { action: "dropConnections" };

export type HostRequest =
  | { op: "start"; options: HostOptions }
  | { op: "stats" }
  | { op: "control"; call: ControlCall }
  /** The timeline since the last `timeline` call (it is cleared on read). */
  | { op: "timeline" }
  | { op: "stop" };

export interface StartedEmulator {
  server: string;
  media: string;
  credentials: { clientId: string; clientSecret: string; jwt: string };
}

export type HostReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type { StatsSnapshot };
