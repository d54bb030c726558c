import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
let folder: LocalFolder;
beforeEach(() => {
  dir = tempDir("rcr-folder-");
  folder = new LocalFolder(dir.path);
});
afterEach(() => dir.cleanup());

describe("LocalFolder", () => {
  it("stats, reads and removes complete objects by key", async () => {
    mkdirSync(join(dir.path, "a"));
    writeFileSync(join(dir.path, "a", "x.mp3"), "12345");
    expect(await folder.stat(relPath("a/x.mp3"))).toEqual({ size: 5 });
    expect(await folder.stat(relPath("a/none.mp3"))).toBeUndefined();
    const chunks: Buffer[] = [];
    for await (const chunk of folder.read(relPath("a/x.mp3"))) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).toString()).toBe("12345");
    await folder.remove(relPath("a/x.mp3"));
    expect(await folder.stat(relPath("a/x.mp3"))).toBeUndefined();
  });

  it("lists objects and the names partials take", async () => {
    writeFileSync(join(dir.path, "x.mp3"), "");
    writeFileSync(join(dir.path, "y.wav.part"), "");
    expect(await folder.list("")).toEqual(
      expect.arrayContaining([
        { name: "x.mp3", kind: "object" },
        { name: "y.wav.part", kind: "object" },
        { name: "y.wav", kind: "partial" },
      ]),
    );
    expect(await folder.list("missing")).toEqual([]);
  });

  it("writes small objects whole, creating their folder", async () => {
    await folder.writeSmall(relPath("2026/a.mp3.json"), '{"id":1}\n', "application/json");
    expect(readFileSync(join(dir.path, "2026", "a.mp3.json"), "utf8")).toBe('{"id":1}\n');
  });

  it("keeps its state in DIR/.rc-recordings: the mark as text, the manifest as lines", async () => {
    await folder.state.writeMark('{"lastTo":"x"}\n');
    expect(await folder.state.readMark()).toBe('{"lastTo":"x"}\n');
    const log = await folder.state.openManifest({ writable: true });
    await log.append("one\n");
    await log.close();
    writeFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), "one\ntwo\nto", { flag: "w" });
    const reread = await folder.state.openManifest({ writable: true });
    const lines: string[] = [];
    for await (const line of reread.lines()) lines.push(line);
    await reread.close();
    expect(lines).toEqual(["one", "two"]);
    expect(readFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), "utf8")).toBe("one\ntwo\n");
  });

  it("locks the folder with DIR/.rc-recordings/lock (see folder-lock.test.ts for who may take it)", async () => {
    const lock = await folder.lock();
    expect(JSON.parse(readFileSync(join(dir.path, ".rc-recordings", "lock"), "utf8")).pid).toBe(process.pid);
    await lock.release();
    expect(existsSync(join(dir.path, ".rc-recordings", "lock"))).toBe(false);
  });
});
