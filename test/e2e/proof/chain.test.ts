import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../src/archive/verify.js";
import { type DownloadEnv, setupDownload, summaryOf } from "../download/helpers.js";

// The tamper-evident chain and signed checkpoints through the built CLI: what an insider with write access to
// DIR can do, and what verify then says.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const manifestFile = (env: DownloadEnv) => join(env.out, ".rc-recordings", "manifest.jsonl");
const linesOf = (env: DownloadEnv) => readFileSync(manifestFile(env), "utf8").trimEnd().split("\n");
const writeLines = (env: DownloadEnv, lines: string[]) =>
  writeFileSync(manifestFile(env), `${lines.join("\n")}\n`);
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

/** The canonical form the manifest writes: keys sorted, no spaces (flat records only here). */
function canonical(record: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))));
}

async function archived(): Promise<{ env: DownloadEnv; head: string; lines: string[] }> {
  e = await setupDownload({ calls: 5, withRecordingRatio: 1, transferredCalls: false });
  const run = await e.download(["--from", "2d", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  const head = summaryOf(run.stdout).chainHead as string;
  expect(head).toMatch(/^[0-9a-f]{64}$/);
  const lines = linesOf(e);
  expect(sha256(lines.at(-1) as string)).toBe(head);
  return { env: e, head, lines };
}

describe("the hash chain", { timeout: 120_000 }, () => {
  it("a consistent rewrite of a file and its line, a deleted line, an inserted line: exit 3 naming the record", async () => {
    const { env, head, lines } = await archived();
    const verify = (args: string[] = []) => env.run(["verify", "--out", env.out, ...args]);
    const ok = await verify(["--json", "--chain-head", head]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as VerifyReport).chain).toMatchObject({
      head,
      broken: null,
      headFound: true,
    });
    expect(ok.stderr).toContain(`hash chain intact: ${lines.length} records`);

    // The insider replaces the second recording and rewrites its line to match: no file is "changed" any more.
    const victim = JSON.parse(lines[2] as string) as { recordingId: string; path: string };
    const forged = Buffer.from("ID3 a different conversation");
    writeFileSync(join(env.out, ...victim.path.split("/")), forged);
    const rewritten = [...lines];
    rewritten[2] = canonical({
      ...JSON.parse(lines[2] as string),
      bytes: forged.length,
      sha256: sha256(forged),
    });
    writeLines(env, rewritten);
    const next = JSON.parse(lines[3] as string) as { recordingId: string };
    const consistent = await verify(["--json"]);
    expect(consistent.code, consistent.stderr).toBe(3);
    const report = JSON.parse(consistent.stdout) as VerifyReport;
    expect(report.changed).toEqual([]); // the file matches its (forged) line…
    expect(report.chain.broken).toMatchObject({ line: 4, recordingId: next.recordingId, after: { line: 3 } });
    expect(consistent.stderr).toContain(
      `hash chain broken at manifest line 4 (recording ${next.recordingId}): its link is not the hash of the line before it; line 3 (recording ${victim.recordingId})`,
    );

    writeLines(env, [...lines.slice(0, 2), ...lines.slice(3)]); // a deleted line
    const deleted = await verify();
    expect(deleted.code).toBe(3);
    expect(deleted.stderr).toContain(`hash chain broken at manifest line 3 (recording ${next.recordingId})`);

    // An inserted line, linked correctly to the one before it: the line after it no longer follows.
    const inserted = canonical({
      ...JSON.parse(lines[2] as string),
      recordingId: "999",
      prev: sha256(lines[1] as string),
    });
    writeLines(env, [...lines.slice(0, 2), inserted, ...lines.slice(2)]);
    const insert = await verify();
    expect(insert.code).toBe(3);
    expect(insert.stderr).toContain(`hash chain broken at manifest line 4 (recording ${victim.recordingId})`);

    writeLines(env, lines); // the true manifest back: the chain holds, and the forged file is found
    const restored = await verify(["--json"]);
    expect(restored.code).toBe(3);
    expect(JSON.parse(restored.stdout)).toMatchObject({ changed: [victim.path], chain: { broken: null } });
  });

  it("--chain-head after the manifest was cut short: exit 3; a malformed head: exit 2", async () => {
    const { env, head, lines } = await archived();
    writeLines(env, lines.slice(0, -2)); // the chain still holds, it just ends earlier
    const cut = await env.run(["verify", "--out", env.out, "--chain-head", head]);
    expect(cut.code, cut.stderr).toBe(3);
    expect(cut.stderr).toContain(`the hash chain does not contain ${head}`);
    const older = sha256(lines.at(-3) as string);
    expect((await env.run(["verify", "--out", env.out, "--chain-head", older.toUpperCase()])).code).toBe(0);
    const bad = await env.run(["verify", "--out", env.out, "--chain-head", "abc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--chain-head "abc": expected 64 hex digits');
  });

  it("upgrades a manifest written by an older version once, and says so", async () => {
    const { env, lines } = await archived();
    // What an older version wrote: the same recordings, no chain.
    const legacy = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record.record === undefined)
      .map(({ prev: _prev, ...rest }) => JSON.stringify(rest));
    writeLines(env, legacy);
    const before = await env.run(["verify", "--out", env.out]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toContain("the manifest has no hash chain yet");
    const run = await env.download(["--from", "2d", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const upgraded = linesOf(env);
    expect(upgraded.slice(0, legacy.length)).toEqual(legacy);
    expect(JSON.parse(upgraded[legacy.length] as string)).toMatchObject({
      record: "chain-start",
      priorLines: legacy.length,
      prev: sha256(legacy.map((line) => `${line}\n`).join("")),
    });
    const after = await env.run([
      "verify",
      "--out",
      env.out,
      "--json",
      "--chain-head",
      summaryOf(run.stdout).chainHead as string,
    ]);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as VerifyReport).chain.start).toMatchObject({
      line: legacy.length + 1,
      priorLines: legacy.length,
    });
    // A second run does not start it again.
    expect((await env.download(["--from", "2d"])).code).toBe(0);
    expect(linesOf(env).filter((line) => line.includes('"chain-start"'))).toHaveLength(1);
  });
});

describe("signed checkpoints", { timeout: 120_000 }, () => {
  it("a signed archive verifies with only the public key; a flipped byte in a checkpoint is exit 3", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    const env = e;
    const key = join(env.dir, "signing-key.pem");
    const pub = join(env.dir, "public-key.pem");
    // Exactly the commands docs/proof.md gives.
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", key]);
    execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-out", pub]);
    expect((await env.download(["--from", "2d", "--signing-key", key])).code).toBe(0);
    // The second run gets its key as a systemd credential.
    const credentials = join(env.dir, "credentials");
    execFileSync("mkdir", ["-p", credentials]);
    execFileSync("cp", [key, join(credentials, "signing-key")]);
    const second = await env.download(["--from", "2d", "--json"], {
      env: { ...env.env, CREDENTIALS_DIRECTORY: credentials },
    });
    expect(second.code, second.stderr).toBe(0);
    const lines = linesOf(env);
    expect(lines.filter((line) => line.includes('"record":"checkpoint"'))).toHaveLength(2);
    expect(sha256(lines.at(-1) as string)).toBe(summaryOf(second.stdout).chainHead);

    // The auditor has the archive and the public key, nothing else.
    const auditor = await env.run(["verify", "--out", env.out, "--public-key", pub, "--json"], {
      env: { XDG_CONFIG_HOME: join(env.dir, "auditor") },
    });
    expect(auditor.code, auditor.stderr).toBe(0);
    expect((JSON.parse(auditor.stdout) as VerifyReport).chain.checkpoints).toEqual({
      count: 2,
      verified: true,
      problems: [],
    });
    expect(auditor.stderr).toContain("2 signed checkpoints verified");

    const last = lines.at(-1) as string;
    const at = last.indexOf('"at":"') + 6; // a digit of the checkpoint's time
    const flipped = `${last.slice(0, at)}${last[at] === "1" ? "2" : "1"}${last.slice(at + 1)}`;
    writeLines(env, [...lines.slice(0, -1), flipped]);
    const bad = await env.run(["verify", "--out", env.out, "--public-key", pub]);
    expect(bad.code, bad.stderr).toBe(3);
    expect(bad.stderr).toContain(
      `signed checkpoint at manifest line ${lines.length}: its signature does not match its content`,
    );

    const wrongKey = await env.run(["download", "--out", env.out, "--signing-key", pub]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain("not a private key in PEM form");
  });
});
