import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Faults } from "../../emulator/faults.js";
import { spawnCli } from "../../helpers/cli.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";

// SIGTERM (systemd stopping a unit, docker stop, a timeout) stops `download` in every phase within 5 s, exit 130.
// The clock starts when the phase is reached (the emulator's counters say so), not when the run starts.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Wait (bounded) until `reached` holds. */
async function until(reached: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!reached()) {
    if (Date.now() > deadline) throw new Error(`never reached: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Start a download, wait for the phase, send SIGTERM; the exit code and the time from signal to exit. */
async function stopIn(env: DownloadEnv, reached: () => boolean, what: string) {
  const { child, result } = env.spawnDownload(["--concurrency", "1"]);
  await until(reached, what);
  const sentAt = Date.now();
  child.kill("SIGTERM");
  const r = await result;
  return { ...r, ms: Date.now() - sentAt };
}

/** Make the stored access token look expired: the run must renew it first. */
function expireStoredToken(env: DownloadEnv): void {
  const file = join(env.profilesDir, "default.json");
  const record = JSON.parse(readFileSync(file, "utf8"));
  record.login.tokens.accessTokenExpiresAt = Date.now() - 1_000;
  writeFileSync(file, JSON.stringify(record));
}

const phases: [string, Faults, (env: DownloadEnv) => boolean, ((env: DownloadEnv) => void)?][] = [
  [
    "waiting for a token endpoint that never answers",
    { silentTokenEndpoint: true },
    (env) => env.emu.stats.tokenRequestsHeld > 0,
    expireStoredToken,
  ],
  // Every request takes minutes: the run sits on its first request (the listing's).
  ["waiting for a server that takes minutes to answer", { latencyMs: 120_000 }, () => true],
  [
    "waiting out a 429 with a long Retry-After",
    { rateLimited: { scope: "all", retryAfter: 600 } },
    (env) => env.emu.stats.rateLimited > 0 || env.emu.stats.faultsInjected.rateLimited > 0,
  ],
  ["receiving a slow body", { bandwidth: 1_000 }, (env) => env.emu.stats.contentRequests > 0],
];

describe("SIGTERM stops every phase of a download within 5 s (exit 130)", () => {
  for (const [phase, faults, reached, prepare] of phases) {
    it(phase, async () => {
      e = await setupDownload({ calls: 4, recordingBytes: 400_000 });
      prepare?.(e);
      e.emu.control.setFaults(faults);
      const started = Date.now();
      const r = await stopIn(e, () => Date.now() - started > 1_500 && reached(e as DownloadEnv), phase);
      expect(r.code, r.stderr).toBe(130);
      expect(r.ms, r.stderr).toBeLessThan(5_000);
    }, 120_000);
  }

  it("waiting for the profile's token lock, which another run holds", async () => {
    e = await setupDownload({ calls: 4 });
    expireStoredToken(e);
    e.emu.control.setFaults({ silentTokenEndpoint: true });
    // The holder waits on the silent token endpoint with the lock taken; the second run waits for the lock.
    const holder = spawnCli(["download", "--out", join(e.dir, "other")], { env: e.env });
    try {
      await until(() => (e as DownloadEnv).emu.stats.tokenRequestsHeld > 0, "the holder's token request");
      const held = (e as DownloadEnv).emu.stats.tokenRequestsHeld;
      const started = Date.now();
      const r = await stopIn(e, () => Date.now() - started > 2_000, "the lock wait");
      expect(e.emu.stats.tokenRequestsHeld).toBe(held); // it never got to ask: it waited for the lock
      expect(r.code, r.stderr).toBe(130);
      expect(r.ms, r.stderr).toBeLessThan(5_000);
    } finally {
      holder.child.kill("SIGKILL");
      await holder.result;
    }
  }, 120_000);
});
