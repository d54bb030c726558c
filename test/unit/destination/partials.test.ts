import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SymlinkRefusedError } from "../../../src/destination/local/contained-fs.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import type { PartialStore } from "../../../src/destination/types.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
let stateDir: string;
let partials: PartialStore;
beforeEach(() => {
  dir = tempDir("rcr-partials-");
  stateDir = join(dir.path, ".rc-recordings");
  partials = new LocalFolder(dir.path).partials;
  mkdirSync(join(stateDir, "partial"), { recursive: true });
});
afterEach(() => dir.cleanup());

const recordFile = (id: string) => join(stateDir, "partial", `${id}.json`);
const plant = (id: string, path: string) =>
  writeFileSync(recordFile(id), JSON.stringify({ path, contentType: "audio/mpeg" }));
const open = (id: string, key: string, resume = false) =>
  partials.open(relPath(key), { recordingId: id, contentType: "audio/mpeg", total: 10 }, { resume });

describe("local partials: the journal", () => {
  it("stores the path relative to DIR and hands back the key", async () => {
    await (await open("42", "2026/a.mp3")).close();
    expect(JSON.parse(readFileSync(recordFile("42"), "utf8"))).toEqual({
      path: "2026/a.mp3",
      contentType: "audio/mpeg",
      total: 10,
      recordingId: "42",
    });
    expect(await partials.find("42")).toEqual({ key: "2026/a.mp3", contentType: "audio/mpeg", total: 10 });
  });

  it.each([
    ["a path that climbs out of DIR", "../../etc/cron.d/x"],
    ["an absolute path", "/etc/passwd"],
    ["a path into the state folder", ".rc-recordings/manifest.jsonl"],
    ["DIR itself", "."],
  ])("drops %s instead of following it", async (_what, path) => {
    plant("9", path);
    expect(await partials.find("9")).toBeUndefined();
    expect(existsSync(recordFile("9"))).toBe(false);
  });

  it("refuses to open a partial inside the state folder", async () => {
    await expect(open("5", ".rc-recordings/x.mp3")).rejects.toThrow(/state folder/);
    expect(existsSync(recordFile("5"))).toBe(false);
  });

  it("drops the records of recordings that are already saved (a crash between commit and drop)", async () => {
    for (const [id, key] of [
      ["1", "a.mp3"],
      ["2", "b.mp3"],
      ["a/b", "c.mp3"],
    ] as const)
      await (await open(id, key)).close();
    const saved = new Set(["1", "a/b"]);
    expect(await partials.dropFinished(async (id) => saved.has(id))).toBe(2);
    expect(await partials.find("1")).toBeUndefined();
    expect(await partials.find("a/b")).toBeUndefined();
    expect(await partials.find("2")).toMatchObject({ key: "b.mp3" });
  });
});

describe("local partials: the part file", () => {
  it("holds bytes in <final>.part, resumes after them, and commits by rename", async () => {
    const first = await open("7", "d/x.mp3");
    expect(first.offset).toBe(0);
    await first.append(Buffer.from("hello "));
    await first.close();
    expect(await partials.held(relPath("d/x.mp3"))).toBe(6);

    const again = await open("7", "d/x.mp3", true);
    expect(again.offset).toBe(6);
    const held: Buffer[] = [];
    for await (const chunk of again.readHeld()) held.push(Buffer.from(chunk));
    expect(Buffer.concat(held).toString()).toBe("hello ");
    await again.append(Buffer.from("world"));
    await again.commit();
    expect(readFileSync(join(dir.path, "d", "x.mp3"), "utf8")).toBe("hello world");
    expect(existsSync(join(dir.path, "d", "x.mp3.part"))).toBe(false);
    expect(await partials.find("7")).toBeDefined(); // the caller drops it after the manifest line
  });

  it("starts empty without resume, and abort drops bytes and record", async () => {
    const old = await open("8", "y.mp3");
    await old.append(Buffer.from("old"));
    await old.close();
    const fresh = await open("8", "y.mp3", false);
    expect(fresh.offset).toBe(0);
    await fresh.abort();
    expect(existsSync(join(dir.path, "y.mp3.part"))).toBe(false);
    expect(await partials.find("8")).toBeUndefined();
  });
});

describe("local partials: names and links it did not make", () => {
  it("never fails on a name it did not write (a stray `%` name), and leaves it alone", async () => {
    await (await open("1", "seed.mp3")).close();
    for (const stray of ["100%.json", "%zz.json", "%sha256-nothing.json", "a.b.json"]) {
      writeFileSync(join(stateDir, "partial", stray), "{}");
    }
    expect(await partials.dropFinished(() => true)).toBe(1); // only "1"
    expect(existsSync(join(stateDir, "partial", "100%.json"))).toBe(true);
  });

  it("hashes an id too long for a file name into the name, and still finds and drops it", async () => {
    const id = "7".repeat(300);
    await (await open(id, "long.mp3")).close();
    expect(await partials.find(id)).toEqual({ key: "long.mp3", contentType: "audio/mpeg", total: 10 });
    expect(readdirSync(join(stateDir, "partial")).every((name) => Buffer.byteLength(name) < 255)).toBe(true);
    expect(await partials.dropFinished((recordingId) => recordingId === id)).toBe(1);
    expect(await partials.find(id)).toBeUndefined();
  });

  it("refuses a partial folder, or a recording's folder, that is a symbolic link", async () => {
    const outside = tempDir("rcr-outside-");
    try {
      rmSync(join(stateDir, "partial"), { recursive: true });
      symlinkSync(outside.path, join(stateDir, "partial"));
      await expect(open("9", "x.mp3")).rejects.toBeInstanceOf(SymlinkRefusedError);
      rmSync(join(stateDir, "partial"));
      symlinkSync(outside.path, join(dir.path, "2026-11-30"));
      await expect(open("9", "2026-11-30/x.mp3")).rejects.toThrow(/2026-11-30: it is a symbolic link/);
      expect(readdirSync(outside.path)).toEqual([]);
    } finally {
      outside.cleanup();
    }
  });
});
