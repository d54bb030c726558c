import type { IncomingMessage, ServerResponse } from "node:http";
import { contentSha256, contentSlice } from "./content.js";
import type { Faults } from "./faults.js";
import { readBody, sendJson } from "./http-util.js";
import type { CallPlan, PlannedCall } from "./live-calls.js";
import {
  type EmulatorExtension,
  mergeRecordingSettings,
  type RateLimitOptions,
  type RecordingSettings,
  resolveRateLimits,
} from "./options.js";
import type { EmulatorState } from "./state.js";

export interface RecordingSummary {
  id: string;
  /** Call-log index of the record owning it (0 = newest). */
  index: number;
  /** Which leg of that record carries it, when the call's recordings are only on its legs. */
  leg: number | undefined;
  contentType: string;
  bytes: number;
  contentUri: string;
  deleted: boolean;
  /** The company extension the recorded call belongs to (also when the directory no longer lists it). */
  extension: EmulatorExtension;
}

/** What tests (and, over HTTP, other processes) can do to the running platform. */
export interface EmulatorControl {
  /** Current access tokens answer 401 OAU-128 from now on (the refresh tokens still work). */
  expireAccessTokens(): void;
  /** Current access tokens answer 401 OAU-213; sessions and refresh tokens stay alive. */
  killAccessTokens(): void;
  /** Every live session dies: access → 401 OAU-213, refresh → 400 invalid_grant OAU-211. */
  killSessions(): void;
  /** Refresh tokens (current and in grace) answer 400 invalid_grant OAU-210. */
  expireRefreshTokens(): void;
  /** Replace the fault configuration (counters restart). */
  setFaults(faults: Faults): void;
  /** Replace the rate limits (partial configs merge over the defaults; buckets restart). `false` = off. */
  setRateLimits(limits: RateLimitOptions): void;
  /** Make a listed recording answer 404 CMN-102 (content and metadata). */
  deleteRecording(id: string): void;
  /** Point a recording's contentUri at another origin. */
  setForeignContent(id: string, origin: string): void;
  expectedSha256(recordingId: string): string;
  expectedBytes(recordingId: string): number;
  /** Bytes [start, end) of a recording (keep it small). */
  recordingContent(recordingId: string, start?: number, end?: number): Buffer;
  /** Every recording in the dataset (iterates the whole log: for small datasets). */
  recordings(): RecordingSummary[];
  /** The extension directory as `GET …/extension` lists it. */
  directory(): EmulatorExtension[];
  /** Whether an access token would be accepted right now (does not count as a use). */
  sessionAlive(accessToken: string): boolean;
  /** 401 errorCode an access token would get right now, or "ok". */
  tokenStatus(accessToken: string): string;
  /** Every access and refresh token issued so far (to prove a client never prints one). */
  issuedTokens(): string[];
  /** Zero the stats counters. */
  resetStats(): void;
  /** Recordings retention has deleted so far (see the `retention` option). */
  retentionDeleted(): number;
  /**
   * Change the account's call-recording settings (fields merge over the current ones): `retentionPeriod` also
   * changes which recordings are gone; `forbidden: true` makes the endpoint answer 403. Returns the new settings.
   */
  setRecordingSettings(settings: Partial<RecordingSettings>): RecordingSettings;
  /** Start retention now (or at `startAt`): the oldest recording goes first, one more every `everyMs`. */
  startRetention(everyMs: number, startAt?: number): void;
  /**
   * Make calls now (or spread by `intervalMs`): each produces telephony-session events on the WebSocket
   * gateway, and its call-log record (and recording) appear `callLogDelayMs` after it disconnected.
   */
  startCalls(plan?: CallPlan): PlannedCall[];
  /** Switch telephony events on or off (calls still happen and reach the call log). */
  setEvents(enabled: boolean): void;
  /** Drop every open WebSocket connection at once, without a close frame; returns how many. */
  dropConnections(): number;
  /** Open connections, ws sessions still recoverable, their subscriptions. */
  webSocketStatus(): { open: number; sessions: number; subscriptions: number };
}

export function createControl(state: EmulatorState): EmulatorControl {
  const recordingOrThrow = (id: string) => {
    const recording = state.dataset.recording(id);
    if (!recording) throw new RangeError(`no recording ${id}`);
    return recording;
  };
  return {
    expireAccessTokens: () => state.sessions.expireAccessTokens(),
    killAccessTokens: () => state.sessions.killAccessTokens(),
    killSessions: () => state.sessions.killSessions(),
    expireRefreshTokens: () => state.sessions.expireRefreshTokens(),
    setFaults: (faults) => state.faults.set(faults),
    setRateLimits: (limits) => state.limiter.configure(resolveRateLimits(limits)),
    deleteRecording: (id) => {
      state.deleted.add(id);
    },
    setForeignContent: (id, origin) => {
      state.foreign.set(id, origin.replace(/\/+$/, ""));
    },
    expectedSha256: (id) => contentSha256(recordingOrThrow(id)),
    expectedBytes: (id) => recordingOrThrow(id).bytes,
    recordingContent: (id, start, end) => contentSlice(recordingOrThrow(id), start, end),
    recordings: () =>
      Array.from(state.dataset.recordings(), (r) => ({
        id: r.id,
        index: r.index,
        leg: r.leg,
        contentType: r.contentType,
        bytes: r.bytes,
        contentUri: state.contentUri(r.id),
        deleted: state.deleted.has(r.id) || state.retention.isExpired(r.index),
        extension: state.dataset.extensionOf(r.index),
      })),
    directory: () => state.directory(),
    sessionAlive: (token) => state.sessions.checkAccess(token, Date.now(), false).ok,
    tokenStatus: (token) => {
      const check = state.sessions.checkAccess(token, Date.now(), false);
      return check.ok ? "ok" : check.errorCode;
    },
    issuedTokens: () => state.sessions.issuedTokens(),
    resetStats: () => state.stats.reset(),
    retentionDeleted: () => state.retention.deleted,
    setRecordingSettings: (settings) => {
      state.recordingSettings = mergeRecordingSettings(state.recordingSettings, settings);
      return state.recordingSettings;
    },
    startRetention: (everyMs, startAt = Date.now()) => {
      if (!(everyMs > 0)) throw new RangeError(`invalid everyMs: ${everyMs}`);
      state.retention.configure({ startAt, everyMs });
    },
    startCalls: (plan) => state.callMaker.start(plan),
    setEvents: (enabled) => {
      state.gateway.eventsEnabled = enabled;
    },
    dropConnections: () => state.gateway.dropConnections(),
    webSocketStatus: () => state.gateway.status(),
  };
}

export function handleStats(state: EmulatorState, res: ServerResponse): void {
  sendJson(res, 200, state.stats.snapshot());
}

/**
 * POST /__emulator/control/<action> with a JSON body: the same names as EmulatorControl. Arguments: the body
 * itself for setFaults/setRateLimits/setRecordingSettings; `{id}` / `{id, origin}` / `{id, start, end}` / `{accessToken}` otherwise.
 * Answers `{ok: true, result}`; recordingContent answers the raw bytes.
 */
export async function handleControl(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  action: string,
): Promise<void> {
  if (req.method !== "POST") return sendJson(res, 405, { ok: false, error: "use POST" });
  const control = createControl(state);
  let args: Record<string, unknown>;
  let raw: unknown;
  try {
    const text = await readBody(req);
    raw = text.trim() === "" ? {} : JSON.parse(text);
    args = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  } catch (error) {
    return sendJson(res, 400, { ok: false, error: `bad JSON body: ${(error as Error).message}` });
  }
  const str = (name: string) => String(args[name] ?? "");
  const num = (name: string) => (args[name] === undefined ? undefined : Number(args[name]));
  const actions: Record<string, () => unknown> = {
    expireAccessTokens: () => control.expireAccessTokens(),
    killAccessTokens: () => control.killAccessTokens(),
    killSessions: () => control.killSessions(),
    expireRefreshTokens: () => control.expireRefreshTokens(),
    setFaults: () => control.setFaults(args as Faults),
    setRateLimits: () => control.setRateLimits(raw === false ? false : (args as RateLimitOptions)),
    deleteRecording: () => control.deleteRecording(str("id")),
    setForeignContent: () => control.setForeignContent(str("id"), str("origin")),
    expectedSha256: () => control.expectedSha256(str("id")),
    expectedBytes: () => control.expectedBytes(str("id")),
    recordings: () => control.recordings(),
    directory: () => control.directory(),
    sessionAlive: () => control.sessionAlive(str("accessToken")),
    tokenStatus: () => control.tokenStatus(str("accessToken")),
    issuedTokens: () => control.issuedTokens(),
    resetStats: () => control.resetStats(),
    retentionDeleted: () => control.retentionDeleted(),
    setRecordingSettings: () => control.setRecordingSettings(args as Partial<RecordingSettings>),
    startRetention: () => control.startRetention(Number(args.everyMs), num("startAt")),
    startCalls: () => control.startCalls(args as CallPlan),
    setEvents: () => control.setEvents(args.enabled !== false),
    dropConnections: () => control.dropConnections(),
    webSocketStatus: () => control.webSocketStatus(),
  };
  if (action === "recordingContent") {
    try {
      const bytes = control.recordingContent(str("id"), num("start"), num("end"));
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": bytes.length });
      res.end(bytes);
    } catch (error) {
      sendJson(res, 404, { ok: false, error: (error as Error).message });
    }
    return;
  }
  const run = actions[action];
  if (!run) return sendJson(res, 404, { ok: false, error: `unknown action ${action}` });
  try {
    sendJson(res, 200, { ok: true, result: run() ?? null });
  } catch (error) {
    sendJson(res, 400, { ok: false, error: (error as Error).message });
  }
}
