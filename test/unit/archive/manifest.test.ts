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
import { Manifest, type ManifestEntry } from "../../../src/archive/manifest.js";
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
/** The recordings' lines, in order (the chain's own records left out). */
const recordingIds = (): string[] =>
  readFileSync(manifestFile(), "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((r) => r.record === undefined)
    .map((r) => r.recordingId);

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
    // The torn tail is cut off; the chain then starts after the lines an older version wrote (the upgrade).
    const lines = readFileSync(manifestFile(), "utf8").trimEnd().split("\n");
    expect(lines.at(-2)).toBe(JSON.stringify(entry("2", "b.mp3", 4)));
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ record: "chain-start", priorLines: 2 });
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

    expect(recordingIds()).toEqual(["1", "3"]);
  });

  it("keeps concurrent appends on separate lines", async () => {
    const manifest = await Manifest.open(folder(), { writable: true });
    await Promise.all(Array.from({ length: 50 }, (_, i) => manifest.append(entry(String(i), `${i}.mp3`, i))));
    await manifest.close();
    expect(recordingIds().sort()).toEqual(Array.from({ length: 50 }, (_, i) => String(i)).sort());
  });

  it("does not create anything when opened read-only", async () => {
    const manifest = await Manifest.open(new LocalFolder(join(dir.path, "nope")), { writable: false });
    expect(existsSync(join(dir.path, "nope"))).toBe(false);
    await expect(manifest.append(entry("1", "1.mp3", 1))).rejects.toThrow(/read-only/);
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
