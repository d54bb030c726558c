import {
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { VerifyReport } from "../../../src/archive/verify.js";
import { type DownloadEnv, manifestOf, partials, setupDownload, waitFor } from "../download/helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("verify", () => {
  it("passes on a fresh archive, then names a flipped byte, a deleted file and a stranger (exit 3)", async () => {
    e = await setupDownload();
    expect((await e.download()).code).toBe(0);
    const entries = manifestOf(e.out);
    const verify = (args: string[] = []) => e?.run(["verify", "--out", e.out, ...args]);

    const fresh = await verify(["--json"]);
    expect(fresh?.code, fresh?.stderr).toBe(0);
    expect(JSON.parse(fresh?.stdout ?? "")).toMatchObject({
      exitCode: 0,
      checked: entries.length,
      ok: entries.length,
      missing: [],
      changed: [],
      unknown: [],
      chain: expect.objectContaining({ broken: null, records: entries.length + 1 }),
    });
    expect(fresh?.stderr).toContain(`all ${entries.length} recordings intact`);

    const [flipped, deleted, grown, first] = entries;
    if (!flipped || !deleted || !grown || !first) throw new Error("too few recordings");
    const flippedFile = join(e.out, ...flipped.path.split("/"));
    const bytes = readFileSync(flippedFile);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8((bytes.readUInt8(middle) ^ 0x01) & 0xff, middle); // same size, one bit different
    writeFileSync(flippedFile, bytes);
    rmSync(join(e.out, ...deleted.path.split("/")));
    writeFileSync(join(e.out, ...grown.path.split("/")), "x", { flag: "a" });
    copyFileSync(join(e.out, ...first.path.split("/")), join(e.out, "stranger.mp3"));
    writeFileSync(join(e.out, "notes.txt"), "not a recording");
    const manifestBefore = readFileSync(join(e.out, ".rc-recordings", "manifest.jsonl"));
    const mtimeBefore = statSync(flippedFile).mtimeMs;

    const damaged = await verify(["--json"]);
    expect(damaged?.code, damaged?.stderr).toBe(3);
    const report = JSON.parse(damaged?.stdout ?? "") as VerifyReport;
    expect(report).toMatchObject({
      checked: entries.length,
      ok: entries.length - 3,
      missing: [deleted.path],
      changed: [flipped.path, grown.path].sort(),
      unknown: ["stranger.mp3"],
      chain: expect.objectContaining({ broken: null }),
    });
    expect(damaged?.stderr).toContain(`missing: ${deleted.path}`);
    expect(damaged?.stderr).toContain(`changed: ${flipped.path}`);
    expect(damaged?.stderr).toMatch(/3 of \d+ recordings missing or changed/);
    // Read-only: neither the manifest nor the files were touched, and no lock was left.
    expect(readFileSync(join(e.out, ".rc-recordings", "manifest.jsonl")).equals(manifestBefore)).toBe(true);
    expect(statSync(flippedFile).mtimeMs).toBe(mtimeBefore);

    // The repair: a download fetches what is missing or has the wrong size again; a file with the right size
    // but the wrong bytes must be removed first (a download trusts a file of the recorded size).
    rmSync(flippedFile);
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const repaired = await verify(["--json"]);
    expect(repaired?.code, repaired?.stderr).toBe(0); // a stranger alone is reported, but is no damage
    expect(JSON.parse(repaired?.stdout ?? "")).toMatchObject({
      ok: entries.length,
      unknown: ["stranger.mp3"],
    });
    expect(repaired?.stderr).toContain("not in the manifest: stranger.mp3");
  });

  it("reports recordings reached through a symbolic link (the file, or a folder on its way) and never follows one", async () => {
    e = await setupDownload();
    expect((await e.download()).code).toBe(0);
    const entries = manifestOf(e.out);
    const [linkedFile, ...rest] = entries;
    if (!linkedFile) throw new Error("no recordings");
    // The file becomes a link to an identical copy outside the archive: the bytes match, the archive's copy is gone.
    const outside = join(e.dir, "elsewhere");
    mkdirSync(outside, { recursive: true });
    const file = join(e.out, ...linkedFile.path.split("/"));
    renameSync(file, join(outside, "copy.mp3"));
    symlinkSync(join(outside, "copy.mp3"), file);
    // A folder of recordings becomes a link to a copy of itself outside the archive.
    const other = rest.find(
      (entry) => dirname(entry.path) !== dirname(linkedFile.path) && dirname(entry.path) !== ".",
    );
    const inFolder = other ? entries.filter((entry) => dirname(entry.path) === dirname(other.path)) : [];
    if (other) {
      const folder = join(e.out, ...dirname(other.path).split("/"));
      cpSync(folder, join(outside, "folder"), { recursive: true });
      rmSync(folder, { recursive: true });
      symlinkSync(join(outside, "folder"), folder);
    }
    const linked = [linkedFile.path, ...inFolder.map((entry) => entry.path)].sort();

    const result = await e.run(["verify", "--out", e.out, "--json"]);
    expect(result.code, result.stderr).toBe(3);
    const report = JSON.parse(result.stdout) as VerifyReport;
    expect(report).toMatchObject({ missing: [], changed: linked, linked });
    expect(report.ok).toBe(entries.length - linked.length);
    expect(result.stderr).toContain(`changed: ${linkedFile.path} (a symbolic link`);
    expect(result.stderr).toMatch(/fetch them again with: rc-recordings download --repair/);
  });

  it("exits 5 while a download holds DIR, and 2 where there is no archive", async () => {
    // 20 s a recording: on a loaded machine verify must still find the download at work.
    e = await setupDownload({ calls: 4, recordingBytes: 3_000_000, faults: { bandwidth: 150_000 } });
    const env = e;
    const download = env.spawnDownload();
    await waitFor(() => partials(env.out).some((p) => p.size > 0), 8000, "a transfer in flight");
    const busy = await env.run(["verify", "--out", env.out]);
    expect(busy.code, busy.stderr).toBe(5);
    expect(busy.stderr).toContain(`pid ${download.child.pid}`);
    download.child.kill("SIGTERM");
    expect((await download.result).code).toBe(130);

    const none = await env.run(["verify", "--out", join(env.dir, "nowhere")]);
    expect(none.code, none.stderr).toBe(2);
    expect(none.stderr).toMatch(/no archive in .*nowhere/);
  });
});
