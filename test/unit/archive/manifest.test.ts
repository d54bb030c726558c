import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  FIRST_RUN_WINDOW_MS,
  INCREMENTAL_OVERLAP_MS,
  Manifest,
  type ManifestEntry,
  nextLastTo,
} from "../../../src/archive/manifest.js";
import { SymlinkRefusedError } from "../../../src/destination/local/contained-fs.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-manifest-");
});
afterEach(() => dir.cleanup());

const folder = () => new LocalFolder(dir.path);
const manifestFile = () => join(dir.path, ".rc-recordings", "manifest.jsonl");

function entry(id: string, path: string, bytes: number): ManifestEntry {
  return {
    recordingId: id,
    callId: `c${id}`,
    path: path as ManifestEntry["path"],
    bytes,
    sha256: "x",
    contentType: "audio/mpeg",
    startTime: "t",
  };
}

function saveFile(rel: string, bytes: number) {
  const abs = join(dir.path, ...rel.split("/"));
  mkdirSync(join(abs, ".."), { recursive: true });
  writeFileSync(abs, Buffer.alloc(bytes));
}

describe("Manifest", () => {
  it("skips a line too long to be one of ours with ONE warning, keeps the others, and repairs a torn tail", async () => {
    saveFile("a.mp3", 3);
    saveFile("b.mp3", 4);
    mkdirSync(join(dir.path, ".rc-recordings"));
    const huge = `{"recordingId":"x","pad":"${"p".repeat(5 * 1024 * 1024)}"}\n`;
    writeFileSync(
      manifestFile(),
      `${JSON.stringify(entry("1", "a.mp3", 3))}\n${huge}${huge}${JSON.stringify(entry("2", "b.mp3", 4))}\n{"torn`,
    );
    const warnings: string[] = [];
    const manifest = await Manifest.open(folder(), { writable: true, warn: (line) => warnings.push(line) });
    expect(await manifest.isSaved("1")).toBe(true);
    expect(await manifest.isSaved("2")).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 2 lines longer than 1024 KiB/);
    await manifest.close();
    expect(readFileSync(manifestFile(), "utf8").endsWith(`${JSON.stringify(entry("2", "b.mp3", 4))}\n`)).toBe(
      true,
    );
  });

  it("refuses a state folder or a manifest that is a symbolic link, and writes nothing through it", async () => {
    const outside = tempDir("rcr-outside-");
    try {
      symlinkSync(outside.path, join(dir.path, ".rc-recordings"));
      await expect(Manifest.open(folder(), { writable: true })).rejects.toBeInstanceOf(SymlinkRefusedError);
      await expect(folder().preflight()).rejects.toBeInstanceOf(SymlinkRefusedError);
      rmSync(join(dir.path, ".rc-recordings"));
      mkdirSync(join(dir.path, ".rc-recordings"));
      const target = join(outside.path, "victim.txt");
      writeFileSync(target, "keep\n");
      symlinkSync(target, manifestFile());
      await expect(Manifest.open(folder(), { writable: true })).rejects.toThrow(/symbolic link/);
      await expect(Manifest.open(folder(), { writable: false })).rejects.toThrow(/symbolic link/);
      expect(readFileSync(target, "utf8")).toBe("keep\n");
    } finally {
      outside.cleanup();
    }
  });

  it("skips a listed recording only while its file is there with the recorded size", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    saveFile("a/1.mp3", 10);
    await manifest.append(entry("1", "a/1.mp3", 10));
    await manifest.close();

    const reread = await Manifest.open(folder(), { writable: false });
    expect(await reread.isSaved("1")).toBe(true);
    expect(await reread.isSaved("2")).toBe(false);
    expect(reread.ownerOf(relPath("a/1.mp3"))).toBe("1");
    expect(reread.ownerOf(relPath("A/1.MP3"))).toBe("1"); // one file on macOS and Windows
    saveFile("a/1.mp3", 9); // truncated by someone: fetch again
    expect(await reread.isSaved("1")).toBe(false);
  });

  it("drops a torn last line and appends cleanly after it", async () => {
    const m1 = await Manifest.open(folder(), { writable: true });
    await m1.append(entry("1", "1.mp3", 1));
    await m1.close();
    appendFileSync(manifestFile(), '{"recordingId":"2","pa'); // crash mid-append

    const m2 = await Manifest.open(folder(), { writable: true });
    expect(m2.entryOf("1")).toEqual({ path: "1.mp3", bytes: 1 });
    expect(m2.entryOf("2")).toBeUndefined();
    await m2.append(entry("3", "3.mp3", 3));
    await m2.close();

    const lines = readFileSync(manifestFile(), "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).recordingId)).toEqual(["1", "3"]);
  });

  it("keeps concurrent appends on separate lines", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    await Promise.all(Array.from({ length: 50 }, (_, i) => manifest.append(entry(String(i), `${i}.mp3`, i))));
    await manifest.close();
    const lines = readFileSync(manifestFile(), "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).recordingId).sort()).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i)).sort(),
    );
  });

  it("does not create anything when opened read-only", async () => {
    const manifest = await Manifest.open(new LocalFolder(join(dir.path, "nope")), { writable: false });
    expect(existsSync(join(dir.path, "nope"))).toBe(false);
    await expect(manifest.append(entry("1", "1.mp3", 1))).rejects.toThrow(/read-only/);
  });

  it("starts incremental runs at the last run's end minus the overlap, first runs 24 h back", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    const to = new Date("2026-01-02T00:00:00Z");
    expect((await manifest.incrementalFrom(to)).getTime()).toBe(to.getTime() - FIRST_RUN_WINDOW_MS);
    await manifest.writeState({ lastTo: "2026-01-01T12:00:00.000Z", finishedAt: "x" });
    expect((await manifest.incrementalFrom(to)).getTime()).toBe(
      Date.parse("2026-01-01T12:00:00Z") - INCREMENTAL_OVERLAP_MS,
    );
    await manifest.close();
  });

  it("re-reads enough before the last run's end to find a 10-hour call that ended just after it", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    const lastTo = Date.parse("2026-01-01T12:00:00Z");
    await manifest.writeState({ lastTo: new Date(lastTo).toISOString(), finishedAt: "x" });
    // Logged only once it ended (after lastTo), but filtered by its start, 10 h before lastTo.
    const callStart = lastTo - 10 * 60 * 60 * 1000;
    const next = await manifest.incrementalFrom(new Date("2026-01-02T00:00:00Z"));
    expect(next.getTime()).toBeLessThanOrEqual(callStart);
    await manifest.close();
  });

  it("moves the incremental mark only for a range that joins the previous one, never backwards", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    const at = (iso: string) => new Date(`2026-01-${iso}Z`);
    const lastTo = async () => (await manifest.readState())?.lastTo;
    const run = (from: string, to: string, oldestRetryable?: string) =>
      manifest.recordRun({
        from: at(from),
        to: at(to),
        oldestRetryable: oldestRetryable === undefined ? undefined : at(oldestRetryable).getTime(),
      });

    await run("01T00:00", "02T00:00"); // first run: its end
    expect(await lastTo()).toBe(at("02T00:00").toISOString());
    await run("05T23:00", "06T00:00"); // `--from 1h` after nights that failed: the days between stay unlisted
    expect(await lastTo()).toBe(at("02T00:00").toISOString());
    await run("01T12:00", "03T00:00"); // joins the mark: advances
    expect(await lastTo()).toBe(at("03T00:00").toISOString());
    await run("01T00:00", "02T12:00"); // an older range: the mark stays
    expect(await lastTo()).toBe(at("03T00:00").toISOString());
    await run("02T12:00", "04T00:00", "02T20:00"); // a retryable failure holds it at that recording
    expect(await lastTo()).toBe(at("02T20:00").toISOString());
    await manifest.close();
  });

  it("lets a retryable failure hold the mark even below the previous one, so the next run lists it again", () => {
    const run = { from: new Date(0), to: new Date(100), oldestRetryable: 20 };
    expect(nextLastTo(50, run)).toBe(20);
    expect(nextLastTo(undefined, run)).toBe(20);
    expect(nextLastTo(undefined, { ...run, oldestRetryable: undefined })).toBe(100);
  });

  it("ignores a manifest line whose path leads out of DIR", async () => {
    mkdirSync(join(dir.path, ".rc-recordings"));
    const lines = [entry("1", "../outside.mp3", 1), entry("2", "in.mp3", 1)].map((e) => JSON.stringify(e));
    writeFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), `${lines.join("\n")}\n`);
    const manifest = await Manifest.open(folder(), { writable: false });
    expect(manifest.entryOf("1")).toBeUndefined();
    expect(manifest.entryOf("2")).toEqual({ path: "in.mp3", bytes: 1 });
  });
});
