import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FilePartialJournal } from "../../../src/recordings/partials.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
let stateDir: string;
let journal: FilePartialJournal;
beforeEach(async () => {
  dir = tempDir("rcr-partials-");
  stateDir = join(dir.path, ".rc-recordings");
  journal = new FilePartialJournal(stateDir);
  await journal.put("1", { path: join(dir.path, "seed.mp3"), contentType: "audio/mpeg" }); // creates the folder
});
afterEach(() => dir.cleanup());

const recordFile = (id: string) => join(stateDir, "partial", `${id}.json`);
const plant = (id: string, path: string) =>
  writeFileSync(recordFile(id), JSON.stringify({ path, contentType: "audio/mpeg" }));

describe("FilePartialJournal", () => {
  it("stores the path relative to DIR and hands it back absolute", async () => {
    const path = join(dir.path, "2026", "a.mp3");
    await journal.put("42", { path, contentType: "audio/mpeg", total: 10 });
    expect(JSON.parse(readFileSync(recordFile("42"), "utf8")).path).toBe(join("2026", "a.mp3"));
    expect(await journal.get("42")).toEqual({ path, contentType: "audio/mpeg", total: 10 });
  });

  it.each([
    ["a path that climbs out of DIR", "../../etc/cron.d/x"],
    ["an absolute path", "/etc/passwd"],
    ["a path into the state folder", ".rc-recordings/manifest.jsonl"],
    ["DIR itself", "."],
  ])("drops %s instead of following it", async (_what, path) => {
    plant("9", path);
    expect(await journal.get("9")).toBeUndefined();
    expect(existsSync(recordFile("9"))).toBe(false);
  });

  it("refuses to record a path outside DIR", async () => {
    await expect(journal.put("5", { path: "/tmp/elsewhere.mp3", contentType: "audio/mpeg" })).rejects.toThrow(
      /outside/,
    );
    expect(existsSync(recordFile("5"))).toBe(false);
  });

  it("drops the records of recordings that are already saved (a crash between commit and remove)", async () => {
    await journal.put("2", { path: join(dir.path, "b.mp3"), contentType: "audio/mpeg" });
    await journal.put("a/b", { path: join(dir.path, "c.mp3"), contentType: "audio/mpeg" });
    const saved = new Set(["1", "a/b"]);
    expect(await journal.dropFinished(async (id) => saved.has(id))).toBe(2);
    expect(await journal.get("1")).toBeUndefined();
    expect(await journal.get("a/b")).toBeUndefined();
    expect(await journal.get("2")).toMatchObject({ path: join(dir.path, "b.mp3") });
  });
});
