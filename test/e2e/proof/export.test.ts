import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ManifestEntry } from "../../../src/archive/manifest.js";
import type { VerifyReport } from "../../../src/archive/verify.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { type DownloadEnv, filesBelow, manifestOf, setupDownload, summaryOf } from "../download/helpers.js";

// `export` through the built CLI: a slice of a signed archive for a recipient, checked by `verify --out` on the
// export alone (and by sha256sum), tampering found, the archive untouched; from a bucket too.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

/** Every file below `dir` with its SHA-256: the archive must be the same after an export. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    filesBelow(dir).map((file) => [
      file,
      createHash("sha256")
        .update(readFileSync(join(dir, file)))
        .digest("hex"),
    ]),
  );
}

/** Flip one byte of a file, run `check`, put the byte back. */
async function withFlippedByte(file: string, at: (size: number) => number, check: () => Promise<void>) {
  const original = readFileSync(file);
  const damaged = Buffer.from(original);
  const i = at(original.length);
  damaged[i] = (damaged[i] ?? 0) ^ 0x01;
  writeFileSync(file, damaged);
  try {
    await check();
  } finally {
    writeFileSync(file, original);
  }
}

describe("export", { timeout: 180_000 }, () => {
  it("a signed archive's range: verify --out on the export alone exits 0; sha256sum -c too; a flipped byte anywhere is exit 3; the archive is untouched", async () => {
    e = await setupDownload({ calls: 8, withRecordingRatio: 1, transferredCalls: false });
    const env = e;
    const key = join(env.dir, "signing-key.pem");
    const pub = join(env.dir, "public-key.pem");
    execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", key]);
    execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-out", pub]);
    const run = await env.download(["--from", "30d", "--metadata", "--signing-key", key, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const head = summaryOf(run.stdout).chainHead as string;
    const entries = manifestOf(env.out).sort((a, b) => a.startTime.localeCompare(b.startTime));
    expect(entries.length).toBeGreaterThan(3);
    // The range: every call but the newest and the oldest, so that the proof omits records at both ends.
    const from = entries[1]?.startTime as string;
    const to = entries.at(-1)?.startTime as string;
    const chosen = entries.slice(1, -1);
    const before = snapshot(env.out);
    const x = join(env.dir, "case-4711");

    const exported = await env.run([
      "--json",
      "export",
      "--out",
      env.out,
      "--from",
      from,
      "--to",
      to,
      "--to-dir",
      x,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const result = JSON.parse(exported.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      schema: 1,
      command: "export",
      exitCode: 0,
      exported: chosen.length,
      sidecars: chosen.length,
      chainHead: head,
      problems: [],
    });
    expect(snapshot(env.out)).toEqual(before); // export only reads

    // The recordings, byte for byte, their sidecars, and what the recipient needs.
    const files = filesBelow(x).sort();
    for (const entry of chosen) {
      expect(files).toContain(entry.path);
      expect(files).toContain(`${entry.path}.json`);
      expect(
        createHash("sha256")
          .update(readFileSync(join(x, entry.path)))
          .digest("hex"),
      ).toBe(entry.sha256);
    }
    for (const left of [entries[0], entries.at(-1)] as ManifestEntry[])
      expect(files).not.toContain(left.path);
    for (const name of ["README.txt", "SHA256SUMS", "chain-proof.jsonl", ".rc-recordings/manifest.jsonl"])
      expect(existsSync(join(x, name)), name).toBe(true);
    const proof = readFileSync(join(x, "chain-proof.jsonl"), "utf8");
    expect(proof).toContain('{"omitted":"');
    for (const left of [entries[0], entries.at(-1)] as ManifestEntry[])
      expect(proof).not.toContain(left.recordingId);
    const readme = readFileSync(join(x, "README.txt"), "utf8");
    expect(readme).toContain(`Chain head:    ${head}`);
    expect(readme).toContain("rc-recordings verify --out THIS-FOLDER");
    expect(readme).toContain("sha256sum -c SHA256SUMS");

    // People without the tool: sha256sum over the list.
    const sums = spawnSync("sha256sum", ["-c", "--quiet", "SHA256SUMS"], { cwd: x, encoding: "utf8" });
    expect(sums.status, sums.stdout + sums.stderr).toBe(0);
    expect(readFileSync(join(x, "SHA256SUMS"), "utf8").trim().split("\n")).toHaveLength(
      chosen.length * 2 + 3, // recordings, sidecars, manifest, chain proof, README
    );

    // The tool: the export verifies on its own, with the public key and with the head kept elsewhere.
    const verify = await env.run(["--json", "verify", "--out", x, "--public-key", pub, "--chain-head", head]);
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as VerifyReport;
    expect(report).toMatchObject({ checked: chosen.length, ok: chosen.length, missing: [], changed: [] });
    expect(report.chain).toMatchObject({ head, broken: null, headFound: true });
    expect(report.chain.checkpoints).toMatchObject({ count: 1, verified: true, problems: [] });

    const fails = async (pattern: RegExp) => {
      const bad = await env.run(["verify", "--out", x, "--public-key", pub]);
      expect(bad.code, bad.stderr).toBe(3);
      expect(bad.stderr).toMatch(pattern);
    };
    const victim = chosen[0] as ManifestEntry;
    // A recording changed.
    await withFlippedByte(
      join(x, victim.path),
      (n) => n >> 1,
      () => fails(/changed: /),
    );
    // A manifest line rewritten (a byte of its sha256 flipped): it is no record of the proof any more.
    const manifest = join(x, ".rc-recordings", "manifest.jsonl");
    const at = readFileSync(manifest, "utf8").indexOf('"sha256":"') + 12;
    await withFlippedByte(
      manifest,
      () => at,
      () => fails(/hash chain broken at manifest line 1 .*not a record of the export's chain-proof/),
    );
    // A byte of the proof: an omitted hash, or a checkpoint.
    const omitted = proof.indexOf('{"omitted":"') + 14;
    await withFlippedByte(
      join(x, "chain-proof.jsonl"),
      () => omitted,
      () => fails(/hash chain broken at chain-proof.jsonl line/),
    );
    const checkpoint = proof.indexOf('"record":"checkpoint"') + 2;
    await withFlippedByte(
      join(x, "chain-proof.jsonl"),
      () => checkpoint,
      () => fails(/chain-proof.jsonl line/),
    );
    // A recording removed with its manifest line (the proof still holds it).
    const text = readFileSync(manifest, "utf8");
    writeFileSync(manifest, text.split("\n").slice(1).join("\n"));
    await fails(/chain-proof.jsonl .*removed from the export/);
    writeFileSync(manifest, text);
    expect((await env.run(["verify", "--out", x])).code).toBe(0);

    // A non-empty --to-dir, or one inside the archive: exit 2, nothing written.
    const again = await env.run(["export", "--out", env.out, "--to-dir", x]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty/);
    const inside = await env.run(["export", "--out", env.out, "--to-dir", join(env.out, "x")]);
    expect(inside.code).toBe(2);
    expect(inside.stderr).toMatch(/inside the archive/);
    expect(snapshot(env.out)).toEqual(before);
  });

  it("--extension selects; a recording missing in the archive is left out (exit 3, the rest verifies); a broken chain exports nothing (exit 3)", async () => {
    e = await setupDownload({ calls: 8, withRecordingRatio: 1, transferredCalls: false });
    const env = e;
    expect((await env.download(["--from", "30d"])).code).toBe(0);
    const entries = manifestOf(env.out);
    const extension = entries.find((entry) => entry.extensionNumber !== undefined)?.extensionNumber as string;
    const ofExtension = entries.filter((entry) => entry.extensionNumber === extension);
    expect(ofExtension.length).toBeGreaterThan(0);
    expect(ofExtension.length).toBeLessThan(entries.length);
    const byExtension = join(env.dir, "ext");
    const selected = await env.run([
      "--json",
      "export",
      "--out",
      env.out,
      "--extension",
      extension,
      "--to-dir",
      byExtension,
    ]);
    expect(selected.code, selected.stderr).toBe(0);
    expect(JSON.parse(selected.stdout)).toMatchObject({ exported: ofExtension.length });
    expect((await env.run(["verify", "--out", byExtension])).code).toBe(0);

    const gone = entries[0] as ManifestEntry;
    rmSync(join(env.out, gone.path));
    const partial = join(env.dir, "partial");
    const missing = await env.run(["--json", "export", "--out", env.out, "--to-dir", partial]);
    expect(missing.code, missing.stderr).toBe(3);
    expect(missing.stderr).toContain(`missing in the source, not exported: ${gone.path}`);
    expect(JSON.parse(missing.stdout)).toMatchObject({
      exported: entries.length - 1,
      problems: [{ recordingId: gone.recordingId, problem: "missing" }],
    });
    expect(readFileSync(join(partial, "README.txt"), "utf8")).toContain(
      `${gone.path} (recording ${gone.recordingId}): missing`,
    );
    const verify = await env.run(["verify", "--out", partial]);
    expect(verify.code, verify.stderr).toBe(0);

    // The archive's own chain broken (a line removed): nothing is exported.
    const manifest = join(env.out, ".rc-recordings", "manifest.jsonl");
    const lines = readFileSync(manifest, "utf8").split("\n");
    writeFileSync(manifest, [...lines.slice(0, 2), ...lines.slice(3)].join("\n"));
    const broken = join(env.dir, "broken");
    const refused = await env.run(["export", "--out", env.out, "--to-dir", broken]);
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/hash chain is broken at line 3; nothing exported/);
    // The folder is made only once the archive proved intact: a refused export leaves none behind.
    expect(existsSync(broken)).toBe(false);
    const nowhere = await env.run(["export", "--out", join(env.dir, "no-archive"), "--to-dir", broken]);
    expect(nowhere.code, nowhere.stderr).toBe(2);
    expect(nowhere.stderr).toMatch(/no archive in/);
    expect(existsSync(broken)).toBe(false);
  });

  it("works from an S3 archive; an empty existing --to-dir is fine", async () => {
    const s3 = await s3ServerForTest(["archive"]);
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const env = { ...e.env, ...s3.env };
    const run = (args: readonly string[]) => (e as DownloadEnv).run(args, { env });
    const down = await run(["download", "--out", "s3://archive/calls", "--from", "30d", "--json"]);
    expect(down.code, down.stderr).toBe(0);
    const x = join(e.dir, "from-s3");
    mkdirSync(x);
    const exported = await run(["export", "--out", "s3://archive/calls", "--to-dir", x]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toMatch(/exported \d+ recordings/);
    const verify = await run([
      "--json",
      "verify",
      "--out",
      x,
      "--chain-head",
      summaryOf(down.stdout).chainHead as string,
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as VerifyReport;
    expect(report.checked).toBe(e.emu.control.recordings().length);
    expect(report.chain.headFound).toBe(true);
  });
});
