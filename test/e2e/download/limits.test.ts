import { afterEach, describe, expect, it } from "vitest";
import { type DownloadEnv, expectAllSaved, setupDownload, summaryOf, waitFor } from "./helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("download: tokens and rate limits", () => {
  it("recovers from an access token killed mid-run without another JWT login", async () => {
    e = await setupDownload({ calls: 12, recordingBytes: 60_000, faults: { bandwidth: 200_000 } });
    const env = e;
    const run = env.spawnDownload(["--concurrency", "2", "--json"]);
    await waitFor(() => env.emu.stats.contentRequestsCompleted >= 1, 8000, "a first recording");
    env.emu.control.killAccessTokens();
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    expect(env.emu.stats.unauthorized["OAU-213"] ?? 0).toBeGreaterThan(0); // the kill really hit requests
    expect(env.emu.stats.refreshes).toBe(1);
    expect(env.emu.stats.jwtLogins).toBe(0); // since the test's own login
    expect(summaryOf(result.stdout).failed).toBe(0);
    await expectAllSaved(env);
  });

  it("stays within a scaled-down Heavy limit: zero 429s", async () => {
    e = await setupDownload({
      calls: 12,
      rateLimits: { windowSec: 1, penaltySec: 5, limits: { heavy: 3 } },
    });
    const started = Date.now();
    const result = await e.download(["--concurrency", "4", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.rateLimited).toBe(0);
    const requests = e.emu.stats.requestsByGroup.heavy;
    // It did have to wait: more Heavy requests than one window allows.
    expect(requests).toBeGreaterThan(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual((Math.ceil(requests / 3) - 1) * 1000);
    await expectAllSaved(e);
  });
});
