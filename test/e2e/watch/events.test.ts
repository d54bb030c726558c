import { describe, expect, it } from "vitest";
import { manifestOf } from "../download/helpers.js";
import { expectByteExact, recordingIds, setupWatch, startWatch, waitArchived } from "./helpers.js";

// Events decide when to look, the call log what is there: what happens when events are lost, late or many.

describe("watch (built CLI against the emulator): events, recovery and the sweep as safety net", () => {
  it("archives calls made while it runs, byte-exact, soon after their records appear; SIGTERM ends it with exit 0", async () => {
    const e = await setupWatch();
    const running = startWatch(e, ["--sweep", "1h"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    const before = manifestOf(e.out).length;
    expect(before).toBeGreaterThan(0); // the start sweep saved the last 24 hours

    const calls = e.emu.control.startCalls({ count: 3, intervalMs: 200, talkMs: 300 });
    const ids = recordingIds(calls);
    await waitArchived(e, ids);
    await expectByteExact(e, ids);
    await running.waitFor(/sweep \d+ \(event\)/); // its line follows the manifest lines
    expect(manifestOf(e.out)).toHaveLength(before + ids.length);

    const { code, ms } = await running.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  }, 120_000);

  it("a dropped socket recovers its subscription with wsc and misses nothing", async () => {
    const e = await setupWatch();
    const running = startWatch(e, ["--sweep", "1h"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);

    expect(e.emu.control.dropConnections()).toBe(1);
    // Calls that end while the socket is down: their events wait in the gateway's recovery buffer.
    const ids = recordingIds(e.emu.control.startCalls({ count: 3, ringMs: 50, talkMs: 150 }));
    await running.waitFor(/push channel recovered its subscription/);
    await waitArchived(e, ids);
    await expectByteExact(e, ids);
    expect(e.emu.stats.ws.recoveries.Successful).toBeGreaterThanOrEqual(1);
    // Recovered, not subscribed afresh: no catch-up sweep was needed.
    expect(running.stderr()).not.toMatch(/\(catch-up\)/);
  }, 120_000);

  it("a subscription that cannot be recovered is made afresh, and a catch-up sweep finds what was missed", async () => {
    // No recovery window at the gateway: every lost connection starts a new ws session.
    const e = await setupWatch({ webSocket: { recoveryTimeoutSec: 0 } });
    const env = e;
    const running = startWatch(env, ["--sweep", "1h"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    env.emu.control.setEvents(false); // these calls' events are lost for good
    const ids = recordingIds(
      env.emu.control.startCalls({ count: 2, ringMs: 50, talkMs: 100, callLogDelayMs: 0 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // their records are in the call log now
    env.emu.control.setEvents(true);
    expect(env.emu.control.dropConnections()).toBe(1);
    await running.waitFor(/push channel subscribed/, { count: 2 });
    await waitArchived(env, ids);
    await expectByteExact(env, ids);
    await running.waitFor(/sweep \d+ \(catch-up\)/);
    expect(env.emu.stats.ws.subscriptions).toBe(2);
  }, 120_000);

  it("with events switched off, the periodic sweep still archives every call", async () => {
    const e = await setupWatch();
    e.emu.control.setEvents(false);
    const running = startWatch(e, ["--sweep", "3s"]);
    await running.waitFor(/sweep 1 \(start\)/);
    const ids = recordingIds(e.emu.control.startCalls({ count: 2, talkMs: 200 }));
    await waitArchived(e, ids);
    await expectByteExact(e, ids);
    await running.waitFor(/sweep \d+ \(periodic\)/); // its line follows the manifest lines
    expect(running.stderr()).not.toMatch(/\(event\)/);
    expect(e.emu.stats.ws.notificationsSent).toBe(0);
  }, 120_000);

  it("a burst of 30 calls costs at most 3 call-log pages", async () => {
    const e = await setupWatch();
    const running = startWatch(e, ["--sweep", "1h"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    e.emu.control.resetStats();

    const ids = recordingIds(e.emu.control.startCalls({ count: 30, intervalMs: 20, talkMs: 300 }));
    expect(ids).toHaveLength(30);
    await waitArchived(e, ids, 120_000);
    await expectByteExact(e, ids);
    expect(e.emu.stats.ws.notificationsSent).toBeGreaterThanOrEqual(30);
    expect(e.emu.stats.callLogRequests).toBeLessThanOrEqual(3);
  }, 180_000);
});
