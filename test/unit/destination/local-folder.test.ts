import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { BusyError } from "../../../src/errors.js";
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
    await folder.writeSmall(relPath("2026/a.mp3.json"), '{"id":1}\n', "application/json", "evidence");
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

  it("reads a large object in order through reused buffers, and stops cleanly when the reader stops", async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 0);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
    writeFileSync(join(dir.path, "big.wav"), bytes);
    const copies: Buffer[] = [];
    for await (const chunk of folder.read(relPath("big.wav"))) copies.push(Buffer.from(chunk)); // copied: reused
    expect(Buffer.concat(copies).equals(bytes)).toBe(true);
    for await (const _ of folder.read(relPath("big.wav"))) break; // no unhandled read after the close
  });

  it("lists every complete object below DIR, without its state, partials or symlinked folders", async () => {
    mkdirSync(join(dir.path, "2026", "11"), { recursive: true });
    writeFileSync(join(dir.path, "2026", "11", "a.mp3"), "a");
    writeFileSync(join(dir.path, "2026", "b.wav.part"), "b");
    writeFileSync(join(dir.path, "index.csv"), "c");
    mkdirSync(join(dir.path, ".rc-recordings"));
    writeFileSync(join(dir.path, ".rc-recordings", "manifest.jsonl"), "");
    symlinkSync(join(dir.path, "2026"), join(dir.path, "link"));
    const keys: string[] = [];
    for await (const key of folder.objects()) keys.push(key);
    expect(keys.sort()).toEqual(["2026/11/a.mp3", "index.csv"]);
  });

  it("keeps named state records, and answers busy without taking the lock", async () => {
    expect(await folder.state.readRecord("extensions.json")).toBeUndefined();
    await folder.state.writeRecord("extensions.json", "{}\n");
    expect(readFileSync(join(dir.path, ".rc-recordings", "extensions.json"), "utf8")).toBe("{}\n");
    await folder.assertIdle();
    const lock = await folder.lock();
    // Held by this very process (its random process id is in the lock): a download is under way here too.
    await expect(folder.assertIdle()).rejects.toBeInstanceOf(BusyError);
    await lock.release();
    writeFileSync(
      join(dir.path, ".rc-recordings", "lock"),
      JSON.stringify({ pid: 1, host: hostname(), startedAt: "then", token: "t" }),
    );
    await expect(folder.assertIdle()).rejects.toBeInstanceOf(BusyError);
    expect(existsSync(join(dir.path, ".rc-recordings", "lock"))).toBe(true); // untouched
  });
});
