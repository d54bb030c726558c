import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { spawnCli } from "../../helpers/cli.js";
import { type S3FaultPlan, startS3FaultProxy } from "../../helpers/s3-fault-proxy.js";
import { S3_TEST_CREDENTIALS, type S3Server, s3ServerForTest } from "../../helpers/s3-server.js";
import { sigtermOnce } from "../../helpers/stall.js";
import { json, parseJson } from "../../helpers/tamper-proxy.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";
import { setupProxiedDownload } from "../download/proxied.js";

// Stores that misbehave in ways the field found: the built CLI against the emulator and a real S3-compatible
// server (s3rver), with a proxy in front where the store must misbehave.

const URL = "s3://archive/calls";

interface S3Archive {
  e: DownloadEnv;
  s3: S3Server;
  env: NodeJS.ProcessEnv;
  run(args: readonly string[], env?: NodeJS.ProcessEnv): ReturnType<DownloadEnv["run"]>;
}

async function archive(emulator: Parameters<typeof setupDownload>[0] = {}): Promise<S3Archive> {
  const s3 = await s3ServerForTest();
  const e = await setupDownload(emulator);
  onTestFinished(() => e.stop());
  const env = { ...e.env, ...s3.env };
  return { e, s3, env, run: (args, extra = {}) => e.run(args, { env: { ...env, ...extra } }) };
}

describe("S3 listings that never end", () => {
  it("a store that repeats or cycles its continuation token: download and verify fail after a few requests", async () => {
    const t = await archive({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    const saved = await t.run(["download", "--out", URL, "--json"]);
    expect(saved.code, saved.stderr).toBe(0);

    for (const tokens of [["same-token"], ["token-a", "token-b"]]) {
      const proxy = await startS3FaultProxy(t.s3.endpoint, { listTokens: tokens });
      try {
        const through = { AWS_ENDPOINT_URL_S3: proxy.endpoint };
        const download = await t.run(["download", "--out", URL], through);
        expect(download.code, download.stderr).toBe(1);
        // Its first paged listing (the upload journal) is empty: only the token can prove it moves.
        expect(download.stderr).toMatch(
          tokens.length === 1
            ? /s3:\/\/archive: list calls\/\S*: the listing does not end: page 3 repeats page 2/
            : /s3:\/\/archive: list calls\/\S*: the listing does not end: page 4 repeats page 2/,
        );
        const afterDownload = proxy.faults.listed;
        expect(afterDownload).toBeLessThanOrEqual(6); // the preflight and up to 4 pages; was ~700 a second

        const verify = await t.run(["verify", "--out", URL], through);
        expect(verify.code, verify.stderr).toBe(1);
        // Its listing has keys, and every page the proxy serves is the first: that rule fires first.
        expect(verify.stderr).toMatch(
          /the listing does not end: page 2 starts with the same record as page 1/,
        );
        expect(proxy.faults.listed - afterDownload).toBeLessThanOrEqual(6);
      } finally {
        await proxy.stop();
      }
    }
  }, 120_000);

  it("a store that ignores the token (a fresh one, the same first page every time): verify fails on page 2", async () => {
    const t = await archive({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    expect((await t.run(["download", "--out", URL])).code).toBe(0);
    const proxy = await startS3FaultProxy(t.s3.endpoint, { listTokens: "fresh" });
    try {
      const verify = await t.run(["verify", "--out", URL], { AWS_ENDPOINT_URL_S3: proxy.endpoint });
      expect(verify.code, verify.stderr).toBe(1);
      expect(verify.stderr).toMatch(/page 2 starts with the same record as page 1/);
      expect(proxy.faults.listed).toBeLessThanOrEqual(6);
    } finally {
      await proxy.stop();
    }
  }, 90_000);
});

const MANIFEST = "calls/.rc-recordings/manifest/";

describe("S3 manifest lines", () => {
  it("a 30 MB line is skipped with one warning, never copied into compacted.jsonl; the other lines count", async () => {
    const t = await archive({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const first = await t.run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const saved = JSON.parse(first.stdout).downloaded as number;
    expect(saved).toBeGreaterThan(0);
    // A foreign segment (sorted after the run's own) whose one line is 30 MB, then a line of its own.
    const huge = `{"pad":"${"x".repeat(30 * 1024 * 1024)}"}\n{"foreign":true}\n`;
    await t.s3.put("archive", `${MANIFEST}segment-zzzz-00000.jsonl`, huge);
    t.e.emu.control.resetStats();

    const again = await t.run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/skipped 1 line longer than 1024 KiB/g), again.stderr).toHaveLength(1);
    expect(again.stderr).toContain(`s3://archive/${MANIFEST}segment-zzzz-00000.jsonl`);
    expect(JSON.parse(again.stdout)).toMatchObject({ skipped: saved, downloaded: 0 });
    expect(t.e.emu.stats.contentRequests).toBe(0);

    const objects = await t.s3.objects("archive");
    const manifest = [...objects.keys()].filter((key) => key.startsWith(MANIFEST));
    expect(manifest).toContain(`${MANIFEST}compacted.jsonl`);
    expect(manifest).not.toContain(`${MANIFEST}segment-zzzz-00000.jsonl`);
    const compacted = await t.s3.text("archive", `${MANIFEST}compacted.jsonl`);
    expect(compacted.length).toBeLessThan(1024 * 1024);
    expect(compacted).toContain('{"foreign":true}');
    // Said once: the next run finds nothing left to skip.
    const third = await t.run(["download", "--out", URL, "--from", "2d"]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toMatch(/longer than/);
  }, 120_000);

  it("non-ASCII caller names survive answers cut inside a character: compaction and verify keep every line", async () => {
    const s3 = await s3ServerForTest();
    const e = await setupProxiedDownload({ calls: 20, withRecordingRatio: 1, transferredCalls: false });
    onTestFinished(() => e.stop());
    const caller = (i: number) => `Zoë Ångström 山田太郎 ${i} 🎧 Ørjan Ñandú`;
    type Party = { name?: string };
    e.proxy.set(async (req, ctx) => {
      if (!req.url.pathname.endsWith("/call-log")) return undefined;
      const page = parseJson<{ records: { from?: Party; to?: Party }[] }>(await ctx.forward());
      for (const [i, record] of page.records.entries()) {
        record.from = { ...record.from, name: caller(i) };
        record.to = { ...record.to, name: caller(i + 100) };
      }
      return json(page);
    });
    const proxy = await startS3FaultProxy(s3.endpoint, { splitUtf8: /\.rc-recordings\/manifest\// });
    onTestFinished(() => proxy.stop());
    const env = { ...e.env, ...s3.env, AWS_ENDPOINT_URL_S3: proxy.endpoint };
    const run = (args: string[]) => e.run(args, { env });

    const first = await run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const saved = JSON.parse(first.stdout).downloaded as number;
    expect(saved).toBeGreaterThan(5);
    // The next run folds the first run's segment into compacted.jsonl, reading it in pieces cut inside characters.
    const second = await run(["download", "--out", URL, "--from", "2d", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ skipped: saved, downloaded: 0 });
    expect(proxy.faults.split).toBeGreaterThan(0);
    const compacted = await s3.text("archive", `${MANIFEST}compacted.jsonl`);
    expect(compacted).not.toContain("\ufffd");
    const names = compacted
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { fromName?: string; toName?: string; recordingId?: string })
      .filter((record) => record.recordingId !== undefined);
    expect(names).toHaveLength(saved);
    for (const record of names) expect(record.fromName).toMatch(/^Zoë Ångström 山田太郎 \d+ 🎧 Ørjan Ñandú$/);

    // Was: a damaged line broke the chain and its recording was reported missing.
    const verify = await run(["verify", "--out", URL, "--json"]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: saved, missing: [], changed: [] });
  }, 120_000);
});

describe("S3 credentials in store answers", () => {
  it("a session token from ~/.aws/credentials that the store echoes is never printed, even with --verbose", async () => {
    const t = await archive({ calls: 2 });
    const token = `IQoJb3JpZ2luX2VjE${"Ab9".repeat(60)}SessionTokenFromAProfile`;
    const credentials = join(t.e.dir, "aws-credentials");
    writeFileSync(
      credentials,
      `[default]\naws_access_key_id = ${S3_TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = profile-secret-key-0123456789\naws_session_token = ${token}\n`,
    );
    const proxy = await startS3FaultProxy(t.s3.endpoint, { echoSessionToken: true });
    onTestFinished(() => proxy.stop());
    // Only the profile file has credentials: nothing in the environment names the token.
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = t.env;
    const env = {
      ...rest,
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: join(t.e.dir, "no-aws-config"),
    };
    for (const command of [
      ["download", "--out", URL, "--verbose"],
      ["verify", "--out", URL, "--verbose"],
      ["download", "--out", URL, "--json", "--log-format", "json"],
    ]) {
      const result = await t.e.run(command, { env });
      expect(result.code, result.stderr).toBe(1);
      // The store's message is printed, the token in it is not (was: printed as the store sent it).
      expect(result.stderr).toMatch(/InvalidArgument: The security token '.+' is not valid here/);
      expect(result.stdout + result.stderr).not.toContain(token);
      expect(result.stdout + result.stderr).not.toContain(token.slice(0, 40));
    }
  }, 90_000);
});

describe("a store that stops answering a small request (read, never answered)", () => {
  /** A download through a proxy that stalls every request whose path matches once `plan.stall` is set. */
  async function stalled(t: S3Archive, args: readonly string[], plan: S3FaultPlan) {
    const proxy = await startS3FaultProxy(t.s3.endpoint, plan);
    onTestFinished(() => proxy.stop());
    const run = spawnCli(args, {
      env: { ...t.env, AWS_ENDPOINT_URL_S3: proxy.endpoint },
      timeoutMs: 180_000,
    });
    return { proxy, run };
  }

  for (const [what, stall] of [
    ["a manifest segment PUT", /\.rc-recordings\/manifest\/segment-/],
    ["the lock's PUT", /\.rc-recordings\/lock\.json/],
  ] as const) {
    it(`${what}: SIGTERM ends the download at once (exit 130)`, async () => {
      const t = await archive({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
      const { proxy, run } = await stalled(t, ["download", "--out", URL, "--json"], {
        stall,
        stallMethod: "PUT",
      });
      const r = await sigtermOnce(run, () => proxy.faults.stalled > 0, what);
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(130);
      // Was: left to finish or time out (60 s of silence per try, up to 6 tries).
      expect(r.ms, r.stderr).toBeLessThan(10_000);
    }, 150_000);
  }

  it("a manifest segment PUT under --max-duration: the run ends once its wind-down is over (exit 1, naming it)", async () => {
    const t = await archive({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    const { proxy, run } = await stalled(t, ["download", "--out", URL, "--max-duration", "8s"], {
      stall: /\.rc-recordings\/manifest\/segment-/,
      stallMethod: "PUT",
    });
    // The bound: 8 s, the grace period (15 s), the wind-down (30 s); was 60 s of silence per try, up to 6 tries,
    // for each state write that followed (killed by the guard).
    const r = await run.result;
    expect(proxy.faults.stalled).toBeGreaterThan(0);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/s3:\/\/archive: .*: no answer before --max-duration ran out/);
  }, 240_000);

  it("verify reading a recording: SIGTERM ends it at once (exit 130)", async () => {
    const t = await archive({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    expect((await t.run(["download", "--out", URL])).code).toBe(0);
    const { proxy, run } = await stalled(t, ["verify", "--out", URL], {
      stall: /^\/archive\/calls\/(?!\.rc-recordings\/)[^?]+\.(mp3|wav)/,
    });
    const r = await sigtermOnce(run, () => proxy.faults.stalled > 0, "a recording's GET");
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.ms, r.stderr).toBeLessThan(10_000);
  }, 150_000);
});
