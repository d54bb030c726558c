import { randomUUID } from "node:crypto";
import { WebSocket } from "ws";
import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import {
  type ConnectionDetails,
  type GatewayMessage,
  parseGatewayMessage,
  type TelephonySessionEvent,
  type Wsc,
} from "./messages.js";
import { wsUriProblem } from "./ws-url.js";

/** The answer of POST /restapi/oauth/wstoken. */
export interface WsToken {
  uri: string;
  ws_access_token: string;
  expires_in: number;
}

export const TELEPHONY_SESSIONS = "/restapi/v1.0/account/~/telephony/sessions";

/** Timings (ms); the defaults follow the platform (spec §10). Tests shorten them. */
export interface PushTimings {
  /** No message for this long → send a Heartbeat (the platform: after ≥ 30 s of silence). */
  heartbeatAfterMs: number;
  /** No message at all for this long after a Heartbeat went out → the connection is dead. */
  silenceLimitMs: number;
  /** ConnectionDetails, a ClientResponse: each must arrive within this. */
  answerTimeoutMs: number;
  /** Reconnect backoff: first wait, cap (exponential in between, with jitter). */
  backoffMs: number;
  maxBackoffMs: number;
  /** A ws token is renewed once this share of its lifetime has passed. */
  tokenRenewShare: number;
}

export const DEFAULT_PUSH_TIMINGS: PushTimings = {
  heartbeatAfterMs: 30_000,
  silenceLimitMs: 45_000,
  answerTimeoutMs: 15_000,
  backoffMs: 1_000,
  maxBackoffMs: 60_000,
  tokenRenewShare: 0.8,
};

/** What the channel tells its owner. */
export interface PushListener {
  /** A telephony-session event (deduplicated by session and sequence; order as the server sent it). */
  event(event: TelephonySessionEvent): void;
  /** Subscribed (fresh or recovered): events flow. */
  up(how: "subscribed" | "recovered"): void;
  /** The connection is gone; reconnecting. */
  down(reason: string): void;
  /** Events may have been missed (no recovery, or recovery failed): sweep the call log. */
  catchUpNeeded(reason: string): void;
}

export interface PushChannelOptions {
  /** The configured API server (decides whether a plain ws:// gateway is acceptable). */
  server: string;
  /** A fresh ws token (through the auth session and the Auth rate-limit group), abortable. */
  wsToken(signal: AbortSignal): Promise<WsToken>;
  listener: PushListener;
  log: Logger;
  eventFilters?: string[];
  timings?: Partial<PushTimings>;
  random?: () => number;
}

/** A connection ended; `reason` says why (for the log and /healthz). */
class Lost extends Error {}

/**
 * RingCentral's push channel, kept up for as long as `run` is not aborted: get a ws token (renewed before it
 * expires), connect, wait for ConnectionDetails, subscribe (or recover the subscription with `wsc` within the
 * recovery window), hand events over, send Heartbeats after silence (ping frames are answered by `ws`
 * itself), and reconnect with exponential backoff and jitter when anything breaks. Every wait is bounded and
 * honours the abort signal.
 */
export class PushChannel {
  private readonly timings: PushTimings;
  private token: { value: WsToken; renewAt: number } | undefined;
  private wsc: Wsc | undefined;
  private recoveryTimeoutMs = 180_000;
  private lostAt: number | undefined;
  private readonly lastSequence = new Map<string, number>();
  private everSubscribed = false;

  constructor(private readonly options: PushChannelOptions) {
    this.timings = { ...DEFAULT_PUSH_TIMINGS, ...options.timings };
  }

  /** Resolves once `signal` aborts (the socket closed); rejects only with an error of `wsToken` it cannot outlive. */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        await this.connectOnce(signal);
      } catch (error) {
        if (signal.aborted) break;
        if (!(error instanceof Lost) && !isTransient(error)) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        this.lostAt ??= Date.now();
        this.options.listener.down(reason);
        // A connection that lived a while starts the backoff again.
        if (Date.now() - started > this.timings.maxBackoffMs) attempt = 0;
        const wait = this.backoff(attempt++);
        this.options.log.info(`push channel: ${reason}; reconnecting in ${Math.round(wait / 1000)} s`);
        await abortableSleep(wait, signal);
      }
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.timings.maxBackoffMs, this.timings.backoffMs * 2 ** Math.min(attempt, 20));
    return Math.round(ceiling * (0.5 + (this.options.random ?? Math.random)() / 2));
  }

  private async freshToken(signal: AbortSignal): Promise<WsToken> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const value = await this.options.wsToken(signal);
    registerSecret(value.ws_access_token);
    const problem = wsUriProblem(value.uri, this.options.server);
    if (problem) throw new GatewayUriError(`the push gateway ${value.uri} ${problem}`);
    this.token = { value, renewAt: Date.now() + value.expires_in * 1000 * this.timings.tokenRenewShare };
    return value;
  }

  /** One connection, from ws token to its end: always rejects (Lost) unless aborted. */
  private async connectOnce(signal: AbortSignal): Promise<void> {
    const token = await this.freshToken(signal);
    const recover =
      this.wsc !== undefined &&
      this.lostAt !== undefined &&
      Date.now() - this.lostAt < this.recoveryTimeoutMs;
    const url = new URL(token.uri);
    url.searchParams.set("access_token", token.ws_access_token);
    if (recover && this.wsc) url.searchParams.set("wsc", this.wsc.token);
    const ws = new WebSocket(url, { handshakeTimeout: this.timings.answerTimeoutMs, maxPayload: 4 << 20 });
    const inbox = new Inbox(ws);
    // Every wait of this connection ends at once (a gateway that stopped answering would otherwise hold the
    // wait for the next message, up to heartbeatAfterMs); the close frame still goes out for a clean goodbye.
    const onAbort = () => {
      ws.close(1000);
      inbox.close();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await inbox.opened(this.timings.answerTimeoutMs, () => {
        // A refused ws token (expired, revoked session) is not reused.
        this.token = undefined;
      });
      const details = await inbox.next(
        (m): m is ConnectionDetails => m.type === "ConnectionDetails",
        this.timings.answerTimeoutMs,
      );
      this.recoveryTimeoutMs = details.recoveryTimeoutSec * 1000;
      if (details.wsc) this.wsc = details.wsc;
      const wasLost = this.lostAt !== undefined;
      this.lostAt = undefined;
      if (recover && details.recoveryState === "Successful") {
        this.options.listener.up("recovered");
      } else {
        await this.subscribe(ws, inbox);
        if (this.everSubscribed || wasLost) {
          this.options.listener.catchUpNeeded(
            recover
              ? "the push channel could not recover its subscription"
              : "the push channel was down too long to recover",
          );
        }
        this.everSubscribed = true;
        this.options.listener.up("subscribed");
      }
      await this.pump(ws, inbox, signal);
    } finally {
      signal.removeEventListener("abort", onAbort);
      inbox.close();
      // The gateway's answer to a close frame, briefly: one that never answers is cut off (ws itself waits 30 s).
      if (ws.readyState === WebSocket.CLOSING) await closedWithin(ws, CLOSE_WAIT_MS);
      if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    }
  }

  private async subscribe(ws: WebSocket, inbox: Inbox): Promise<void> {
    const messageId = randomUUID();
    ws.send(
      JSON.stringify([
        { type: "ClientRequest", messageId, method: "POST", path: "/restapi/v1.0/subscription/" },
        {
          eventFilters: this.options.eventFilters ?? [TELEPHONY_SESSIONS],
          deliveryMode: { transportType: "WebSocket" },
        },
      ]),
    );
    const response = await inbox.next(
      (m): m is Extract<GatewayMessage, { type: "ClientResponse" }> =>
        m.type === "ClientResponse" && m.messageId === messageId,
      this.timings.answerTimeoutMs,
    );
    if (response.status !== 200) throw new Lost(`subscription refused (HTTP ${response.status})`);
  }

  /** Events until the connection ends; Heartbeat after silence, give up after a longer one. */
  private async pump(ws: WebSocket, inbox: Inbox, signal: AbortSignal): Promise<void> {
    let heartbeatSent = false;
    while (!signal.aborted) {
      const wait = heartbeatSent
        ? this.timings.silenceLimitMs - this.timings.heartbeatAfterMs
        : this.timings.heartbeatAfterMs;
      const message = await inbox.nextAny(Math.max(1, wait));
      if (signal.aborted) return;
      if (message === undefined) {
        if (heartbeatSent) throw new Lost("the push gateway fell silent");
        ws.send(JSON.stringify([{ type: "Heartbeat", messageId: randomUUID() }]));
        heartbeatSent = true;
        continue;
      }
      heartbeatSent = false;
      if (message.type === "Error")
        throw new Lost(`the push gateway closed the connection (${message.errorCode} ${message.message})`);
      if (message.type !== "ServerNotification") continue;
      if (message.wsc && (!this.wsc || message.wsc.sequence > this.wsc.sequence)) this.wsc = message.wsc;
      const event = message.event;
      if (!event) continue;
      // The same event twice (a replay after recovery) is told once; an older one out of order still is.
      const key = `${event.telephonySessionId}#${event.sequence}`;
      if (this.lastSequence.has(key)) continue;
      this.lastSequence.set(key, Date.now());
      if (this.lastSequence.size > 10_000)
        this.lastSequence.delete(this.lastSequence.keys().next().value as string);
      this.options.listener.event(event);
    }
  }
}

/** The gateway's uri breaks the host rule: permanent, never retried. */
export class GatewayUriError extends Error {
  readonly endsRun = true;
}

function isTransient(error: unknown): boolean {
  if (error instanceof GatewayUriError) return false;
  // Typed errors carry their own policy (errors.ts): one that ends a run (login needed) ends the watch too.
  return (error as { endsRun?: unknown }).endsRun !== true;
}

/** Messages of one socket, queued, with bounded waits; the socket's end rejects every wait with Lost. */
class Inbox {
  private readonly queue: GatewayMessage[] = [];
  private wake: (() => void) | undefined;
  private ended: Lost | undefined;
  private refused = false;

  constructor(private readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      const message = parseGatewayMessage(data.toString());
      if (message) this.queue.push(message);
      this.wake?.();
    });
    ws.on("unexpected-response", (_req, res) => {
      this.refused = true;
      this.end(`the push gateway refused the connection (HTTP ${res.statusCode})`);
    });
    ws.on("error", (error) => this.end(`push connection error: ${error.message}`));
    ws.on("close", (code) => this.end(`the push connection closed (${code})`));
  }

  private end(reason: string): void {
    this.ended ??= new Lost(reason);
    this.wake?.();
  }

  close(): void {
    this.end("closed");
  }

  async opened(timeoutMs: number, onRefused: () => void): Promise<void> {
    try {
      await this.waitFor(() => this.ws.readyState === WebSocket.OPEN, timeoutMs, "no handshake in time");
    } catch (error) {
      if (this.refused) onRefused();
      throw error;
    }
  }

  async next<T extends GatewayMessage>(match: (m: GatewayMessage) => m is T, timeoutMs: number): Promise<T> {
    let found: T | undefined;
    await this.waitFor(
      () => {
        const index = this.queue.findIndex(match);
        if (index >= 0) found = this.queue.splice(index, 1)[0] as T;
        return found !== undefined;
      },
      timeoutMs,
      "the push gateway did not answer in time",
    );
    return found as T;
  }

  /** The next message, or undefined after `timeoutMs` of silence. */
  async nextAny(timeoutMs: number): Promise<GatewayMessage | undefined> {
    try {
      return await this.next((m): m is GatewayMessage => true, timeoutMs);
    } catch (error) {
      if (
        error instanceof Lost &&
        error.message === "the push gateway did not answer in time" &&
        !this.ended
      ) {
        return undefined;
      }
      throw error;
    }
  }

  private async waitFor(ready: () => boolean, timeoutMs: number, timeoutReason: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (ready()) return;
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new Lost(timeoutReason);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
  }
}

/** How long a closing connection may wait for the gateway's close frame before it is cut off. */
const CLOSE_WAIT_MS = 1_000;

/** Resolves when `ws` has closed, or after `ms`. */
function closedWithin(ws: WebSocket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    ws.once("close", done);
    function done() {
      clearTimeout(timer);
      ws.off("close", done);
      resolve();
    }
  });
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener("abort", finish);
      resolve();
    }
    signal.addEventListener("abort", finish, { once: true });
  });
}
