import { afterEach, describe, expect, it } from "vitest";
import { spawnCli, tempDir } from "../../helpers/cli.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// A token endpoint that answers 500 while a renewal is needed: one retry sequence (3 tries) serves every caller
// of the run, and a sequence that failed is not started again by each caller that retries its own work (that
// made 15 token requests in 37 s). The login is kept; the next run, with the endpoint back, completes.

let e: EmulatorEnv | undefined;
let out: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await e?.stop();
  out?.cleanup();
  e = undefined;
  out = undefined;
});

const DATASET = { calls: 10, withRecordingRatio: 1, transferredCalls: false, recordingBytes: 2_000 };

async function setUp(): Promise<EmulatorEnv> {
  e = await startEmulatorEnv({ emulator: DATASET });
  await e.login();
  out = tempDir("rcr-outage-");
  return e;
}

function download(env: EmulatorEnv, extra: string[] = []) {
  return spawnCli(["download", "--out", out?.path ?? "", "--json", ...extra], {
    env: env.env,
    timeoutMs: 150_000,
  });
}

async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("a token endpoint that answers 500 during a needed renewal", () => {
  it("the listing's retries share one failed renewal: at most 6 token requests, login kept", {
    timeout: 180_000,
  }, async () => {
    const env = await setUp();
    env.emu.control.killAccessTokens();
    env.emu.control.setFaults({ tokenEndpointError: {} });
    const result = await download(env).result;
    expect(result.code, result.stderr).toBe(1);
    expect(env.emu.stats.tokenRequestsFailed).toBeGreaterThanOrEqual(3);
    expect(env.emu.stats.tokenRequestsFailed).toBeLessThanOrEqual(6);
    expect(result.stderr).toMatch(/could not refresh the token: .*500/);

    env.emu.control.setFaults({});
    const again = await download(env).result;
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as { listed: number; downloaded: number; failed: number };
    expect(summary.listed).toBeGreaterThanOrEqual(5);
    expect(summary).toMatchObject({ downloaded: summary.listed, failed: 0 });
    expect(env.emu.stats.jwtLogins).toBe(1); // the refresh worked: no new session
  });

  it("five concurrent 401s during transfers: at most 6 token requests, recordings failed, mark held", {
    timeout: 180_000,
  }, async () => {
    const env = await setUp();
    // Every request waits 1.5 s: once the call log and the extension directory have been served, the five
    // transfers are in the emulator's latency when their tokens die, so all five meet a 401 at about one time.
    env.emu.control.setFaults({ latencyMs: 1_500 });
    const run = download(env, ["--concurrency", "5"]);
    await until(() => env.emu.stats.requestsByGroup.medium >= 1);
    env.emu.control.killAccessTokens();
    env.emu.control.setFaults({ latencyMs: 1_500, tokenEndpointError: {} });
    const result = await run.result;
    expect(result.code, result.stderr).toBe(3);
    expect(env.emu.stats.unauthorized["OAU-213"] ?? 0).toBeGreaterThanOrEqual(5);
    expect(env.emu.stats.tokenRequestsFailed).toBeGreaterThanOrEqual(3);
    expect(env.emu.stats.tokenRequestsFailed).toBeLessThanOrEqual(6);
    const failed = JSON.parse(result.stdout) as { listed: number };
    expect(failed.listed).toBeGreaterThanOrEqual(5);
    expect(failed).toMatchObject({ downloaded: 0, failed: failed.listed, complete: false });

    env.emu.control.setFaults({});
    const again = await download(env).result;
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout) as { listed: number; downloaded: number; failed: number };
    expect(summary.listed).toBeGreaterThanOrEqual(5);
    expect(summary).toMatchObject({ downloaded: summary.listed, failed: 0 });
  });
});
