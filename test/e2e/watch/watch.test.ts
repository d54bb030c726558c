import { afterEach, describe, expect, it } from "vitest";
import { manifestOf } from "../download/helpers.js";
import {
  expectByteExact,
  type RunningWatch,
  recordingIds,
  setupWatch,
  startWatch,
  type WatchEnv,
  waitArchived,
} from "./helpers.js";

describe("watch (built CLI against the emulator)", () => {
  let e: WatchEnv | undefined;
  let running: RunningWatch | undefined;
  afterEach(async (context) => {
    // What the watch said is the first thing a failure needs.
    if (context.task.result?.state === "fail" && running) console.error(running.stderr());
    if (running) await running.stop();
    running = undefined;
    await e?.stop();
    e = undefined;
  });

  it("archives calls made while it runs, byte-exact, soon after their records appear; SIGTERM ends it with exit 0", async () => {
    e = await setupWatch();
    running = startWatch(e, ["--sweep", "1h"]);
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
});
