import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DownloadSummary } from "../../../src/run/stats.js";
import { DEMO_CREDENTIALS } from "../../emulator/options.js";
import { spawnCli } from "../../helpers/cli.js";
import {
  type DownloadEnv,
  expectAllSaved,
  manifestOf,
  setupDownload,
  summaryOf,
  waitFor,
} from "./helpers.js";

// The backfill of issue 11 through the built CLI: oldest first, time-boxed runs (exit 6), a pool of profiles,
// the dry run's estimate.

const SECOND_JWT = "eyJzZWNvbmQtdXNlciJ9.eyJzdWIiOiJvcHMyIn0.c2lnbmF0dXJl";
const SECOND_OWNER = "62264425022";
const FOREIGN_JWT = "eyJmb3JlaWduLXVzZXIifQ.eyJzdWIiOiJmb3JlaWduIn0.c2lnbmF0dXJl";
const DAY = 24 * 60 * 60 * 1000;

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** `login --profile name` as another user of the emulator (through another app, when given). */
async function loginAs(
  env: DownloadEnv,
  profile: string,
  jwt: string,
  app?: { clientId: string; clientSecret: string },
): Promise<void> {
  const through = app ? { RC_APP_CLIENT_ID: app.clientId, RC_APP_CLIENT_SECRET: app.clientSecret } : {};
  const result = await env.run(["--profile", profile, "login"], { env: { RC_USER_JWT: jwt, ...through } });
  if (result.code !== 0) throw new Error(`login --profile ${profile} failed: ${result.stderr}`);
}

/** An app that may read the call log but not recordings: ops2 logs in through it. */
const NO_RECORDINGS_APP = { clientId: "noRecordingsApp0001", clientSecret: "noRecordingsSecret-0001" };

/** A pool of ops2 (through NO_RECORDINGS_APP, asked first) and the default profile: `download --json`. */
async function downloadThroughPoolWithoutRecordings(env: DownloadEnv) {
  await loginAs(env, "ops2", SECOND_JWT, NO_RECORDINGS_APP);
  env.emu.control.resetStats();
  return env.run(["--profile", "ops2", "--profile", "default", "download", "--out", env.out, "--json"]);
}

/** The emulator's recordings, oldest call first (record index 0 is the newest). */
function oldestFirstIds(env: DownloadEnv): string[] {
  return [...env.emu.control.recordings()]
    .sort((a, b) => b.index - a.index || (a.leg ?? 0) - (b.leg ?? 0))
    .map((r) => r.id);
}

describe("download: oldest first", () => {
  it("asks for content in call start order, oldest first, across slices of a long range", async () => {
    // 40 calls over 20 days: the range is listed in several slices (1 day, then longer ones).
    e = await setupDownload({ calls: 40, spanMs: 20 * DAY });
    const result = await e.download(["--from", "30d", "--concurrency", "1", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.callLogRequests).toBeGreaterThan(2);
    // Legs of one transferred call share a start time; either order is fine between them.
    const order = e.emu.stats.contentOrder;
    const expected = oldestFirstIds(e);
    expect(order.length).toBe(expected.length);
    const rank = new Map(expected.map((id, i) => [id, i]));
    for (const [i, id] of order.entries()) expect(Math.abs((rank.get(id) ?? -99) - i)).toBeLessThanOrEqual(1);
    const state = JSON.parse(readFileSync(join(e.out, ".rc-recordings", "state.json"), "utf8"));
    expect(summaryOf(result.stdout)).toMatchObject({ complete: true, remaining: 0 });
    expect(Date.parse(state.lastTo)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("download: a login without the account-wide log", () => {
  it("finds out once, on the first slice, and lists its own extension in every later slice", async () => {
    e = await setupDownload({ calls: 40, spanMs: 20 * DAY, admin: false });
    const result = await e.download(["--from", "30d", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.callLogRequests).toBeGreaterThan(3); // several slices
    expect(result.stderr.match(/no permission for the account-wide call log/g)).toHaveLength(1);
    expect(summaryOf(result.stdout).downloaded).toBeGreaterThan(0);
  });
});

describe("download --max-duration", () => {
  it("exits 6 with what remains; the next runs continue, end with 0, and fetch nothing twice", async () => {
    e = await setupDownload({
      calls: 30,
      spanMs: 10 * DAY,
      rateLimits: { windowSec: 1, penaltySec: 1, limits: { heavy: 3 } },
    });
    const total = e.emu.control.recordings().length;
    const codes: (number | null)[] = [];
    const summaries: DownloadSummary[] = [];
    let stderr = "";
    for (let run = 0; run < 12; run++) {
      const result = await e.download(["--from", "30d", "--max-duration", "2s", "--json"]);
      codes.push(result.code);
      stderr += result.stderr;
      summaries.push(summaryOf(result.stdout));
      if (result.code === 0) break;
      expect(result.code, result.stderr).toBe(6);
      // Runs an hour apart in real life: a new process cannot know the window the last one left open.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(result.stderr).toMatch(
        /stopped at --max-duration; (\d+|more) recordings remain.*the next run continues/,
      );
    }
    expect(codes[0]).toBe(6);
    expect(codes.at(-1)).toBe(0);
    expect(summaries[0]).toMatchObject({ complete: false });
    expect(summaries.at(-1)).toMatchObject({ complete: true, remaining: 0 });
    // A time-boxed run continues where the last one stopped instead of listing the range again.
    expect(stderr).toContain("continuing at");
    await expectAllSaved(e);
    expect(Object.values(e.emu.stats.contentRequestsByRecording).every((n) => n === 1)).toBe(true);
    expect(Object.keys(e.emu.stats.contentRequestsByRecording).length).toBe(total);
    expect(e.emu.stats.rateLimited).toBe(0);
  }, 90_000);

  it("ends at once when the rate-limit wait would outlast the time box", async () => {
    e = await setupDownload({
      calls: 12,
      rateLimits: { windowSec: 30, penaltySec: 30, limits: { heavy: 3 } },
    });
    const began = Date.now();
    const result = await e.download(["--max-duration", "20s", "--json"]);
    expect(result.code, result.stderr).toBe(6);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(result.stderr).toContain("would end after --max-duration");
    const summary = summaryOf(result.stdout);
    expect(summary.complete).toBe(false);
    expect(manifestOf(e.out).length).toBe(summary.downloaded);
  });

  it("rejects a malformed duration with exit 2 before any request", async () => {
    e = await setupDownload();
    for (const bad of ["55", "1.5h", "2x", "0s"]) {
      const result = await e.download(["--max-duration", bad]);
      expect(result.code, bad).toBe(2);
      expect(result.stderr).toContain("--max-duration");
    }
    expect(e.emu.stats.requestsByGroup).toEqual({ auth: 0, light: 0, medium: 0, heavy: 0 });
  });
});

describe("download with a pool of profiles", () => {
  it("spreads the downloads over every profile's own budget and survives one being revoked mid-run", async () => {
    e = await setupDownload({
      calls: 36,
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }],
      rateLimits: { windowSec: 1, penaltySec: 1, limits: { heavy: 2 } },
    });
    const env = e;
    await loginAs(env, "ops2", SECOND_JWT);
    env.emu.control.resetStats();
    const run = spawnCli(
      ["--profile", "default", "--profile", "ops2", "download", "--out", env.out, "--json"],
      {
        env: env.env,
      },
    );
    await waitFor(
      () => (env.emu.stats.contentRequestsByUser[SECOND_OWNER] ?? 0) >= 2,
      20_000,
      "ops2 downloads",
    );
    const revoke = await env.run(["--profile", "ops2", "token", "revoke"]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const result = await run.result;
    expect(result.code, result.stderr).toBe(0);
    const summary = summaryOf(result.stdout);
    expect(summary.profiles).toEqual([
      { name: "default", downloaded: expect.any(Number), error: null },
      { name: "ops2", downloaded: expect.any(Number), error: expect.stringContaining("ops2") },
    ]);
    expect(summary.profiles?.[1]?.downloaded).toBeGreaterThanOrEqual(2);
    expect(summary.profiles?.[0]?.downloaded).toBeGreaterThan(0); // the survivor carried on
    expect(result.stderr).toContain("run: rc-recordings login --profile ops2");
    // Credentials in the environment would make both profiles one user: ignored, said once.
    expect(result.stderr.match(/ignoring RC_/g)?.length).toBe(1);
    await expectAllSaved(env);
    expect(env.emu.stats.rateLimited).toBe(0);
  }, 60_000);

  it("fetches through another profile what one may not read, drops that one once, and saves every recording (issue 21)", async () => {
    // ops2 logs in through an app without the recording permission: every recording answers it 403 CMN-401.
    // Its tokens name no scope, so the run learns that only from those refusals.
    e = await setupDownload({
      calls: 12,
      apps: [{ ...NO_RECORDINGS_APP, permissions: ["ReadAccounts", "ReadCallLog"], namesScope: false }],
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }],
      rateLimits: { windowSec: 1, penaltySec: 1, limits: { heavy: 2 } },
    });
    // ops2 first: with both free, it is asked first (it lists too: it may read the call log).
    const result = await downloadThroughPoolWithoutRecordings(e);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(e);
    const recordings = e.emu.control.recordings().length;
    expect(recordings).toBeGreaterThan(4);
    expect(e.emu.stats.contentRequestsByUser[SECOND_OWNER]).toBeGreaterThanOrEqual(1);
    expect(result.stderr.match(/profile "ops2" is dropped from the pool/g)).toHaveLength(1);
    expect(result.stderr).toContain('HTTP 403 for recordings profile "default" could read');
    expect(summaryOf(result.stdout)).toMatchObject({ listed: recordings, downloaded: recordings, failed: 0 });
    expect(summaryOf(result.stdout).profiles).toEqual([
      { name: "ops2", downloaded: 0, error: expect.stringContaining("HTTP 403") },
      { name: "default", downloaded: recordings, error: null },
    ]);
    // The next nightly run finds them all saved: nothing was lost behind the mark.
    const again = await e.download(["--from", "2d", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ listed: recordings, skipped: recordings, failed: 0 });
  }, 60_000);

  it("leaves out, before any request, a profile whose token's scope lacks ReadCallRecording: one warning (issue 21)", async () => {
    e = await setupDownload({
      calls: 12,
      apps: [{ ...NO_RECORDINGS_APP, permissions: ["ReadAccounts", "ReadCallLog"] }],
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }],
    });
    const result = await downloadThroughPoolWithoutRecordings(e);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(e);
    const recordings = e.emu.control.recordings().length;
    const warnings = result.stderr.split("\n").filter((line) => line.startsWith("warning: "));
    expect(warnings).toEqual([
      expect.stringMatching(
        /profile "ops2" is dropped from the pool \(its app lacks ReadCallRecording: .*run: rc-recordings login --profile ops2/,
      ),
    ]);
    // No recording was asked through ops2: there was no refusal to learn from.
    expect(e.emu.stats.contentRequestsByUser[SECOND_OWNER] ?? 0).toBe(0);
    expect(summaryOf(result.stdout)).toMatchObject({ listed: recordings, downloaded: recordings, failed: 0 });
    expect(summaryOf(result.stdout).profiles).toEqual([
      { name: "ops2", downloaded: 0, error: expect.stringContaining("lacks ReadCallRecording") },
      { name: "default", downloaded: recordings, error: null },
    ]);
  }, 60_000);

  it("lists through another profile while the first sits out a 429 (issue 21: only the first listed)", async () => {
    e = await setupDownload({
      calls: 2,
      withRecordingRatio: 1,
      transferredCalls: false,
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }],
      rateLimits: { windowSec: 60, penaltySec: 60, limits: { heavy: 4 } },
    });
    // The first profile's user spent its Heavy budget elsewhere (another tool, a report): its next Heavy
    // request earns a 429 and a minute's penalty.
    const [token] = e.emu.control.issuedTokens();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${e.emu.server}/restapi/v1.0/account/~/call-log?perPage=1`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(i < 4 ? 200 : 429);
    }
    await loginAs(e, "ops2", SECOND_JWT);
    e.emu.control.resetStats();
    const result = await e.run([
      ...["--profile", "default", "--profile", "ops2", "download", "--out", e.out, "--json"],
      ...["--from", "2d", "--max-duration", "40s"],
    ]);
    // Listed and saved through ops2 alone, long before the first profile's minute is over.
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(e);
    const recordings = e.emu.control.recordings().length;
    expect(recordings).toBeGreaterThan(0);
    expect(e.emu.stats.contentRequestsByUser[SECOND_OWNER]).toBe(recordings);
    expect(summaryOf(result.stdout)).toMatchObject({ listed: recordings, downloaded: recordings, failed: 0 });
  }, 90_000);

  it("refuses a second profile that could not read what the first lists, and two logins of one user (exit 2)", async () => {
    e = await setupDownload({
      calls: 12,
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER, admin: false }],
    });
    await loginAs(e, "ops2", SECOND_JWT);
    await loginAs(e, "again", DEMO_CREDENTIALS.jwt); // the default profile's user once more
    e.emu.control.resetStats();
    const narrow = await e.download(["--profile", "default", "--profile", "ops2"]);
    expect(narrow.code, narrow.stderr).toBe(2);
    // One line says why (besides the notice that the environment's credentials are ignored in a pool).
    const lines = narrow.stderr
      .trim()
      .split("\n")
      .filter((line) => !line.includes("ignoring RC_"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/profile "ops2" .*no account-wide permission/);
    const twice = await e.download(["--profile", "default", "--profile", "again"]);
    expect(twice.code, twice.stderr).toBe(2);
    expect(twice.stderr).toMatch(/profiles "default" and "again" are logins of the same user/);
    expect(e.emu.stats.contentRequests).toBe(0);
    expect(e.emu.stats.callLogRequests).toBe(0);
  });

  it("ends with exit 4 only when no profile is left", async () => {
    e = await setupDownload({ calls: 12, users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }] });
    await loginAs(e, "ops2", SECOND_JWT);
    for (const profile of ["default", "ops2"]) {
      expect((await e.run(["--profile", profile, "token", "revoke"])).code).toBe(0);
    }
    const result = await e.download(["--profile", "default", "--profile", "ops2"]);
    expect(result.code, result.stderr).toBe(4);
  });

  it("refuses profiles of two accounts with exit 2 naming the profile, before any content request", async () => {
    e = await setupDownload({
      calls: 12,
      users: [{ jwt: FOREIGN_JWT, ownerId: "71100000001", accountId: "99000001" }],
    });
    await loginAs(e, "other", FOREIGN_JWT);
    e.emu.control.resetStats();
    const result = await e.run(["--profile", "default", "--profile", "other", "download", "--out", e.out]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('profile "other" belongs to account 99000001');
    expect(e.emu.stats.contentRequests).toBe(0);
    expect(e.emu.stats.callLogRequests).toBe(0);
  });

  it("with --scope account refuses a profile without the account-wide permission", async () => {
    e = await setupDownload({
      calls: 12,
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER, admin: false }],
    });
    await loginAs(e, "ops2", SECOND_JWT);
    const result = await e.download(["--profile", "default", "--profile", "ops2", "--scope", "account"]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('profile "ops2"');
    expect(result.stderr).toContain("account-wide permission");
    expect(e.emu.stats.contentRequests).toBe(0);
  });

  it("lets every other command take one profile only (exit 2)", async () => {
    e = await setupDownload();
    const result = await e.run(["--profile", "a", "--profile", "b", "token", "status"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("takes one --profile");
  });
});

describe("download --dry-run estimate", () => {
  it("says how many Heavy requests remain and how long they take at the learned budget", async () => {
    e = await setupDownload({
      calls: 30,
      users: [{ jwt: SECOND_JWT, ownerId: SECOND_OWNER }],
      rateLimits: { windowSec: 60, limits: { heavy: 10 } },
    });
    await loginAs(e, "ops2", SECOND_JWT);
    const recordings = e.emu.control.recordings().length;
    const one = await e.download(["--dry-run", "--json"]);
    expect(one.code, one.stderr).toBe(0);
    const single = summaryOf(one.stdout);
    // One request more than the listing's pages: a first run counts the older recordings it leaves (one page).
    const pages = e.emu.stats.callLogRequests - 1;
    expect(single).toHaveProperty("olderRecordings");
    expect(single.estimate).toEqual({
      requests: pages + recordings,
      pages,
      lookups: 0,
      durationMs: Math.round(((pages + recordings) / (10 / 60)) * 1000),
    });
    expect(one.stderr).toMatch(/estimate: \d+ Heavy requests \(\d+ call-log pages \+ \d+ downloads\), about/);
    // Two profiles of the same plan: twice the budget, half the time.
    const two = await e.download(["--profile", "default", "--profile", "ops2", "--dry-run", "--json"]);
    expect(two.code, two.stderr).toBe(0);
    const pooled = summaryOf(two.stdout).estimate;
    expect(pooled?.requests).toBe(single.estimate?.requests);
    expect(pooled?.durationMs).toBe(Math.round(((pages + recordings) / (20 / 60)) * 1000));
  });
});
