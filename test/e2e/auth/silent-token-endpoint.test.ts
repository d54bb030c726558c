import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// A token endpoint that accepts the connection and then says nothing: `login` gives up within a minute with one
// line (3 tries of 15 s plus 6 s of backoff), and the profile lock is free again afterwards.

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("a silent token endpoint", () => {
  it("fails login within a minute with one line, and stores nothing", { timeout: 90_000 }, async () => {
    e = await startEmulatorEnv({ emulator: { faults: { silentTokenEndpoint: true } } });
    const started = Date.now();
    const result = await e.run(["login"], { timeoutMs: 80_000 });
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    expect(elapsed).toBeLessThan(60_000);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^rc-recordings: could not log in: network error: no answer within 15 s$/),
    ]);
    expect(e.emu.stats.tokenRequestsHeld).toBe(3);
    // Nothing stored, and the lock is free: the next command answers at once.
    e.emu.control.setFaults({});
    const status = await e.run(["token", "status"], { timeoutMs: 10_000 });
    expect(status.code).toBe(4);
  });
});
