import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RepairRecord } from "../../../src/archive/manifest.js";
import type { VerifyReport } from "../../../src/archive/verify.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { type DownloadEnv, manifestOf, setupDownload, sha256File, summaryOf } from "../download/helpers.js";

// download --repair: what verify finds missing or changed is fetched again from the manifest's record ids (no
// call-log listing), a changed file is kept in quarantine byte for byte, and the manifest's chain records it.

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Verified = VerifyReport & { repair?: string };

function flipOneBit(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const middle = Math.floor(copy.length / 2);
  copy.writeUInt8((copy.readUInt8(middle) ^ 0x01) & 0xff, middle); // same size, one bit different
  return copy;
}

/**
 * Damage a downloaded archive the two ways verify tells apart: the first recording's file gets one bit flipped
 * (`changed`, its damaged bytes returned), the second's file is removed (`missing`).
 */
function damageTwo(env: DownloadEnv) {
  const [changed, missing] = manifestOf(env.out);
  if (!changed || !missing) throw new Error("too few recordings");
  const changedFile = join(env.out, ...changed.path.split("/"));
  const damagedBytes = flipOneBit(readFileSync(changedFile));
  writeFileSync(changedFile, damagedBytes);
  rmSync(join(env.out, ...missing.path.split("/")));
  return { changed, changedFile, damagedBytes, missing };
}

function repairRecords(out: string): (RepairRecord & { record: string; at: string; prev: string })[] {
  return readFileSync(join(out, ".rc-recordings", "manifest.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.includes('"record":"repair"'))
    .map((line) => JSON.parse(line));
}

describe("download --repair (folder)", () => {
  it("fetches a deleted and a flipped file again, keeps the flipped copy aside, records the repair; verify exits 0", async () => {
    e = await setupDownload({ calls: 6, withRecordingRatio: 1, transferredCalls: false });
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const { changed: flipped, changedFile: flippedFile, damagedBytes, missing: deleted } = damageTwo(e);

    // verify names the damage and ends with the exact command that repairs it (the profile and --out as given).
    const before = await e.run(["--json", "verify", "--out", e.out]);
    expect(before.code, before.stderr).toBe(3);
    const command = `rc-recordings download --repair --out ${e.out}`;
    expect((JSON.parse(before.stdout) as Verified).repair).toBe(command);
    expect(before.stderr.trimEnd().split("\n").at(-1)).toMatch(
      new RegExp(`fetch them again with: ${command.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`),
    );

    // A dry run names what it would repair and changes nothing.
    const dry = await e.download(["--repair", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    // Its estimate counts what the repair costs: per recording, the recording resource and then its content.
    expect(dry.stderr).toMatch(/estimate: 4 Heavy requests \(2 recording lookups \+ 2 downloads\)/);
    expect(dry.stdout.trim().split("\n").sort()).toEqual([flipped.path, deleted.path].sort());
    expect(existsSync(join(e.out, flipped.path))).toBe(true);
    expect(readFileSync(flippedFile).equals(damagedBytes)).toBe(true);

    e.emu.control.resetStats();
    const repaired = await e.download(["--repair", "--json"]);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(summaryOf(repaired.stdout)).toMatchObject({ downloaded: 2, failed: 0 });
    // Nothing was listed: the manifest named the recordings; the Heavy requests are what the estimate said.
    expect(e.emu.stats.callLogRequests).toBe(0);
    expect(e.emu.stats.requestsByGroup.heavy).toBe(4);
    expect(repaired.stderr).toMatch(/2 of \d+ recordings to repair \(1 missing, 1 changed\)/);

    // The flipped copy is kept, byte for byte, where the log said.
    const kept = /the changed copy is kept in (\S+)/.exec(repaired.stderr)?.[1];
    expect(kept).toBeDefined();
    expect(kept).toContain(join(e.out, ".rc-recordings", "quarantine"));
    expect(readFileSync(kept as string).equals(damagedBytes)).toBe(true);

    // Both files hold the platform's bytes again, and the chain says what was repaired, old and new SHA-256.
    for (const entry of [flipped, deleted]) {
      expect(await sha256File(join(e.out, ...entry.path.split("/")))).toBe(entry.sha256);
    }
    const records = repairRecords(e.out);
    expect(records.map((r) => r.recordingId).sort()).toEqual(
      [flipped.recordingId, deleted.recordingId].sort(),
    );
    const flippedRecord = records.find((r) => r.recordingId === flipped.recordingId);
    expect(flippedRecord).toMatchObject({
      found: "changed",
      path: flipped.path,
      previousSha256: flipped.sha256,
      foundSha256: createHash("sha256").update(damagedBytes).digest("hex"),
      foundBytes: damagedBytes.length,
      sha256: flipped.sha256,
      quarantine: expect.stringMatching(/^\.rc-recordings\/quarantine\/[0-9TZ-]+\//),
    });
    expect(records.find((r) => r.recordingId === deleted.recordingId)).toMatchObject({
      found: "missing",
      path: deleted.path,
    });

    const after = await e.run(["--json", "verify", "--out", e.out]);
    expect(after.code, after.stderr).toBe(0);
    const report = JSON.parse(after.stdout) as Verified;
    expect(report).toMatchObject({
      missing: [],
      changed: [],
      unknown: [],
      chain: { broken: null, repairs: 2 },
    });
    expect(report.repair).toBeUndefined();
    expect(after.stderr).toContain("(2 repairs among them)");

    // report shows the repairs beside what the call log lists.
    const report2 = await e.run(["--json", "report", "--out", e.out, "--from", "2d"]);
    expect(report2.code, report2.stderr).toBe(0);
    const repairedList = (
      JSON.parse(report2.stdout) as { repaired: { recordingId: string; found: string }[] }
    ).repaired;
    expect(repairedList.map((r) => [r.recordingId, r.found]).sort()).toEqual(
      [
        [flipped.recordingId, "changed"],
        [deleted.recordingId, "missing"],
      ].sort(),
    );
    const text = await e.run(["report", "--out", e.out, "--from", "2d"]);
    expect(text.stdout).toMatch(new RegExp(`recording ${flipped.recordingId} .*changed, fetched again`));
  }, 120_000);

  it("a recording the platform no longer has: said per recording, the file kept as it is, exit 3", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const { changed: gone, changedFile: goneFile, damagedBytes, missing } = damageTwo(e);
    e.emu.control.deleteRecording(gone.recordingId);

    const repair = await e.download(["--repair", "--json"]);
    expect(repair.code, repair.stderr).toBe(3);
    expect(repair.stderr).toContain(
      `recording ${gone.recordingId} failed: ${gone.path}: the platform no longer has it (HTTP 404`,
    );
    expect(summaryOf(repair.stdout)).toMatchObject({ downloaded: 1, failed: 1 });
    // What the archive held stays: nothing was copied aside or written over.
    expect(readFileSync(goneFile).equals(damagedBytes)).toBe(true);
    expect(existsSync(join(e.out, ".rc-recordings", "quarantine"))).toBe(false);
    expect(repairRecords(e.out).map((r) => r.recordingId)).toEqual([missing.recordingId]);

    const verify = await e.run(["--json", "verify", "--out", e.out]);
    expect(verify.code).toBe(3);
    expect(JSON.parse(verify.stdout)).toMatchObject({ missing: [], changed: [gone.path] });
  }, 120_000);

  it("refuses flags that choose what to list or how to name it, in one line (exit 2)", async () => {
    e = await setupDownload({ calls: 1 });
    for (const flag of [["--template", "{recordingId}.{ext}"], ["--extension", "101"], ["--metadata"]]) {
      const r = await e.download(["--repair", ...flag]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/--repair.*cannot be used with.*--(template|extension|metadata)/);
    }
    expect(e.emu.stats.callLogRequests).toBe(0);

    // An --out that holds no archive: one line, exit 2, before any request, and nothing made there.
    const nowhere = join(e.dir, "no-archive");
    const none = await e.run(["download", "--repair", "--out", nowhere]);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr.trim()).toBe(`rc-recordings: no archive in ${nowhere}: nothing to repair`);
    expect(existsSync(nowhere)).toBe(false);
    expect(e.emu.stats.callLogRequests).toBe(0);
  });
});

describe("download --repair (S3)", () => {
  it("repairs a deleted and a flipped object, the flipped one kept under the quarantine prefix", async () => {
    const s3 = await s3ServerForTest(["archive"]);
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const env = { ...e.env, ...s3.env };
    const url = "s3://archive/calls";
    const run = (args: string[]) => (e as DownloadEnv).run(args, { env });
    expect((await run(["download", "--out", url, "--from", "2d"])).code).toBe(0);
    const listed = await run(["--json", "verify", "--out", url]);
    expect(listed.code, listed.stderr).toBe(0);

    const objects = await s3.objects("archive");
    const keys = [...objects.keys()].filter((k) => k.startsWith("calls/") && !k.includes(".rc-recordings"));
    const [flippedKey, deletedKey] = keys.filter((k) => /\.(mp3|wav)$/.test(k));
    if (!flippedKey || !deletedKey) throw new Error("too few recordings");
    const bytesOf = (key: string) => s3.bytes("archive", key);
    const original = await bytesOf(flippedKey);
    const damaged = flipOneBit(original);
    await s3.put("archive", flippedKey, damaged);
    await s3.remove("archive", deletedKey);

    const before = await run(["--json", "verify", "--out", url]);
    expect(before.code).toBe(3);
    expect((JSON.parse(before.stdout) as Verified).repair).toBe(
      `rc-recordings download --repair --out ${url}`,
    );

    const repaired = await run(["download", "--out", url, "--repair"]);
    expect(repaired.code, repaired.stderr).toBe(0);
    const kept = /the changed copy is kept in s3:\/\/archive\/(\S+)/.exec(repaired.stderr)?.[1];
    expect(kept).toMatch(/^calls\/\.rc-recordings\/quarantine\/[0-9TZ-]+\//);
    expect((await bytesOf(kept as string)).equals(damaged)).toBe(true);
    expect((await bytesOf(flippedKey)).equals(original)).toBe(true);

    const after = await run(["--json", "verify", "--out", url]);
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ unknown: [], chain: { broken: null, repairs: 2 } });
  }, 120_000);
});
