import { afterEach, describe, expect, it } from "vitest";
import { spawnCli } from "../../helpers/cli.js";
import { type DownloadEnv, expectAllSaved, setupDownload, summaryOf, waitFor } from "../download/helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Every stderr line of a `--log-format json` run, parsed (a line that is not one JSON object fails the test). */
function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const object = JSON.parse(line) as Record<string, unknown>;
      expect(object).toMatchObject({
        time: expect.any(String),
        level: expect.any(String),
        msg: expect.any(String),
      });
      return object;
    });
}

function tokenRequests(d: DownloadEnv): number {
  return d.emu.stats.requestsByGroup.auth;
}

describe("limits, loops and waits in the field", () => {
  it("media that answers 401 to every token ends the run with exit 4 after at most 2 renewals", async () => {
    e = await setupDownload({ calls: 12 });
    e.emu.control.setFaults({ rejectContentTokens: true });
    e.emu.control.resetStats();
    const result = await e.download(["--concurrency", "4"]);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain("the server keeps rejecting fresh tokens");
    expect(result.stderr).toContain("run: rc-recordings login");
    expect(tokenRequests(e)).toBeLessThanOrEqual(3);
    expect(e.emu.stats.jwtLogins).toBe(0);
    // The login itself is fine: it is not marked ended, the next run may try again.
    expect((await e.run(["token", "status"])).code).toBe(0);
  });

  it("a bare 429 (no X-Rate-Limit-* headers) pauses for Retry-After, then the run completes", async () => {
    e = await setupDownload({ calls: 6 });
    e.emu.control.setFaults({ rateLimited: { firstRequests: 1, scope: "api", retryAfter: 2 } });
    const started = Date.now();
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(e.emu.stats.faultsInjected.rateLimited).toBe(1);
    expect(summaryOf(result.stdout).failed).toBe(0);
    await expectAllSaved(e);
  });

  it("CMN-304 (duplicate concurrent request) and CMN-310 (global limit) are waited out and the run completes", async () => {
    e = await setupDownload({ calls: 6 });
    for (const errorCode of ["CMN-304", "CMN-310"]) {
      e.emu.control.setFaults({ rateLimited: { firstRequests: 1, scope: "all", errorCode, retryAfter: 1 } });
      const result = await e.download(["--json", "--from", "2d"]);
      expect(result.code, `${errorCode}: ${result.stderr}`).toBe(0);
      expect(e.emu.stats.faultsInjected.rateLimited).toBeGreaterThanOrEqual(1);
      e.emu.stats.reset();
    }
    await expectAllSaved(e);
  });

  it("Retry-After: 100000 is one logged wait, capped at 15 min, never a silent 28-hour sleep", async () => {
    e = await setupDownload({ calls: 4 });
    e.emu.control.setFaults({ rateLimited: { scope: "api", retryAfter: 100_000 } });
    const { child, result } = spawnCli(["download", "--out", e.out, "--log-format", "json"], { env: e.env });
    let stderr = "";
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
    });
    await waitFor(() => stderr.includes('"event":"wait"'), 15_000, "the wait line");
    child.kill("SIGTERM");
    const done = await result;
    expect(done.code).toBe(130);
    const wait = jsonLines(done.stderr).find((line) => line.event === "wait");
    expect(wait).toMatchObject({ level: "info", requestedWaitMs: 100_000_000 });
    expect(wait?.waitMs).toBeGreaterThan(899_000); // 15 min from the 429, less the ms since
    expect(wait?.waitMs).toBeLessThanOrEqual(900_000);
    expect(String(wait?.msg)).toMatch(/^waiting 15 min: .*Retry-After 100000.*capped/);
    expect(e.emu.stats.faultsInjected.rateLimited).toBe(1); // nothing was sent during the wait
  });

  it("Retry-After: 100000 under --max-duration ends the run at once with exit 6, not after the wait", async () => {
    e = await setupDownload({ calls: 4 });
    e.emu.control.setFaults({ rateLimited: { scope: "api", retryAfter: 100_000 } });
    const began = Date.now();
    const result = await e.download(["--json", "--max-duration", "30s"]);
    expect(result.code, result.stderr).toBe(6);
    expect(Date.now() - began).toBeLessThan(20_000);
    expect(result.stderr).toContain("would end after --max-duration");
    expect(JSON.parse(result.stdout)).toMatchObject({ complete: false, downloaded: 0 });
    expect(e.emu.stats.faultsInjected.rateLimited).toBe(1); // nothing was sent during the wait
  });

  it("json logs under faults: every stderr line is one object, recordings carry their events, no secret", async () => {
    e = await setupDownload({ calls: 12 });
    const recordings = e.emu.control.recordings();
    const gone = recordings[0]?.id as string;
    e.emu.control.deleteRecording(gone);
    e.emu.control.setFaults({
      reset: { firstAttemptsPerRecording: 1, recordingIds: [recordings[1]?.id as string] },
    });
    e.emu.control.killAccessTokens(); // a 401 and its recovery on the way
    const result = await e.download(["--log-format", "json", "--verbose"], {
      env: { RC_RECORDINGS_LOG_FORMAT: "text" }, // the flag wins over the environment
    });
    expect(result.code, result.stderr).toBe(3);
    const lines = jsonLines(result.stderr);
    const events = new Set(lines.map((line) => line.event));
    for (const event of ["saved", "failed", "retry"]) expect(events).toContain(event);
    const saved = lines.find((line) => line.event === "saved");
    expect(saved).toMatchObject({
      recordingId: expect.any(String),
      path: expect.any(String),
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(lines.find((line) => line.event === "failed")).toMatchObject({
      recordingId: gone,
      error: expect.any(String),
    });
    expect(lines.find((line) => line.cause === "access-token-rejected")).toBeDefined();
    const secrets = [e.emu.credentials.jwt, e.emu.credentials.clientSecret, ...e.emu.control.issuedTokens()];
    expect(secrets.length).toBeGreaterThan(4); // the login's pair, the killed one's refresh, the new pair
    const printed = () => [result, again, usage].map((r) => r.stdout + r.stderr).join("\n");

    // Skipped recordings on a second run, and usage errors, are JSON lines too (the environment sets the format).
    const again = await e.download(["--verbose"], { env: { RC_RECORDINGS_LOG_FORMAT: "json" } });
    expect(jsonLines(again.stderr).some((line) => line.event === "skipped")).toBe(true);
    const usage = await e.run(["download", "--bogus"], { env: { RC_RECORDINGS_LOG_FORMAT: "json" } });
    expect(usage.code).toBe(2);
    const [line, ...rest] = jsonLines(usage.stderr);
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: "error", msg: expect.stringContaining("--bogus") });
    for (const secret of [...secrets, "Bearer ", "eyJ"]) expect(printed()).not.toContain(secret);
  });
});
