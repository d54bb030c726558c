import { afterEach, describe, expect, it } from "vitest";
import { createApiClient } from "../../../src/api/client.js";
import { RateLimiter } from "../../../src/api/rate-limiter.js";
import type { AccessTokenProvider } from "../../../src/api/types.js";
import { Logger } from "../../../src/log/logger.js";
import { recordingsOfEndedCall, type TelephonySessionEvent } from "../../../src/notifications/messages.js";
import { PushChannel, type PushListener } from "../../../src/notifications/push-channel.js";
import { wsTokenVia } from "../../../src/notifications/ws-token.js";
import { wsUriProblem } from "../../../src/notifications/ws-url.js";
import { login } from "../../emulator/harness.js";
import { type Emulator, type EmulatorOptions, start } from "../../emulator/index.js";

const quiet = new Logger("quiet", { write: () => true });

/** Listener that records what the channel told, with a bounded wait for a condition. */
function recorder() {
  const seen = {
    events: [] as TelephonySessionEvent[],
    ups: [] as string[],
    downs: [] as string[],
    catchUps: [] as string[],
  };
  const listener: PushListener = {
    event: (e) => seen.events.push(e),
    up: (how) => seen.ups.push(how),
    down: (reason) => seen.downs.push(reason),
    catchUpNeeded: (reason) => seen.catchUps.push(reason),
  };
  const until = async (condition: () => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(seen)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { seen, listener, until };
}

const endedRecordings = (events: TelephonySessionEvent[]) => new Set(events.flatMap(recordingsOfEndedCall));

describe("PushChannel against the emulator's gateway (real WebSocket)", () => {
  let emu: Emulator | undefined;
  const stops: AbortController[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop.abort();
    await emu?.stop();
    emu = undefined;
  });

  async function channel(options: EmulatorOptions = {}, timings = {}) {
    emu = await start({ rateLimits: { limits: { auth: 50 } }, callLogDelayMs: 100, ...options });
    const accessToken = (await login(emu)).access_token;
    const tokens: AccessTokenProvider = {
      server: emu.server,
      getAccessToken: async () => accessToken,
      recover: async () => {
        throw new Error("no recovery in this test");
      },
    };
    const api = createApiClient({ tokens, limiter: new RateLimiter(), log: quiet });
    const rec = recorder();
    const push = new PushChannel({
      server: emu.server,
      wsToken: wsTokenVia(api),
      listener: rec.listener,
      log: quiet,
      timings: { backoffMs: 50, maxBackoffMs: 200, ...timings },
    });
    const stop = new AbortController();
    stops.push(stop);
    const running = push.run(stop.signal);
    await rec.until(() => rec.seen.ups.length > 0);
    return { emu, rec, stop, running };
  }

  it("gets a ws token through the ApiClient (Auth group), subscribes and hands over telephony events", async () => {
    const { emu, rec } = await channel();
    expect(emu.stats.ws.tokens).toBe(1);
    expect(emu.stats.requestsByGroup.auth).toBe(2); // the login and the ws token
    const calls = emu.control.startCalls({ count: 3, talkMs: 50 });
    await rec.until(() => endedRecordings(rec.seen.events).size === 3);
    expect(endedRecordings(rec.seen.events)).toEqual(new Set(calls.map((c) => c.recordingId)));
    expect(rec.seen.catchUps).toEqual([]);
  });

  it("recovers a dropped connection with wsc and misses nothing (no catch-up needed)", async () => {
    const { emu, rec } = await channel();
    emu.control.dropConnections();
    const calls = emu.control.startCalls({ count: 2, talkMs: 50 });
    await rec.until(() => endedRecordings(rec.seen.events).size === 2);
    expect(rec.seen.ups).toEqual(["subscribed", "recovered"]);
    expect(rec.seen.downs.length).toBeGreaterThanOrEqual(1);
    expect(endedRecordings(rec.seen.events)).toEqual(new Set(calls.map((c) => c.recordingId)));
    expect(rec.seen.catchUps).toEqual([]);
    // The ws token was reused for the reconnection: it had not expired.
    expect(emu.stats.ws.tokens).toBe(1);
    expect(emu.stats.ws.recoveries.Successful).toBe(1);
  });

  it("after the recovery window: a fresh subscription and a catch-up signal", async () => {
    const { emu, rec } = await channel(
      { webSocket: { recoveryTimeoutSec: 0.2 } },
      { backoffMs: 600, maxBackoffMs: 600 },
    );
    emu.control.dropConnections();
    await rec.until(() => rec.seen.ups.length === 2);
    expect(rec.seen.ups).toEqual(["subscribed", "subscribed"]);
    expect(rec.seen.catchUps).toHaveLength(1);
    expect(emu.stats.ws.subscriptions).toBe(2);
  });

  it("sends a Heartbeat after silence, renews the ws token before it expires, and stops on abort", async () => {
    const { emu, rec, stop, running } = await channel(
      { webSocket: { tokenTtlSec: 1 } },
      { heartbeatAfterMs: 150, silenceLimitMs: 2000 },
    );
    await rec.until(() => emu.stats.ws.heartbeats >= 2);
    emu.control.dropConnections();
    await rec.until(() => rec.seen.ups.length === 2);
    await new Promise((r) => setTimeout(r, 900));
    emu.control.dropConnections();
    await rec.until(() => rec.seen.ups.length === 3);
    // 1 s tokens renewed at 80 %: the later reconnection needed a new one.
    expect(emu.stats.ws.tokens).toBeGreaterThanOrEqual(2);
    expect(emu.stats.ws.refused).toBe(0);
    const stoppedAt = Date.now();
    stop.abort();
    await running;
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    await rec.until(() => emu.stats.ws.open === 0);
  });
});

describe("where the ws token may go", () => {
  it.each([
    ["wss://ws-api.ringcentral.com/ws", "https://platform.ringcentral.com", true],
    ["ws://ws-api.ringcentral.com/ws", "https://platform.ringcentral.com", false],
    ["wss://evil.example/ws", "https://platform.ringcentral.com", false],
    ["ws://127.0.0.1:4000/ws", "http://127.0.0.1:4000", true],
    ["wss://localhost:4000/ws", "https://localhost:4000", true],
    ["ws://127.0.0.1:4000/ws", "https://platform.ringcentral.com", false],
    ["https://platform.ringcentral.com/ws", "https://platform.ringcentral.com", false],
  ])("%s with server %s → %s", (uri, server, ok) => {
    expect(wsUriProblem(uri, server) === undefined).toBe(ok);
  });
});
