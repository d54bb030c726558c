import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collisionKey, FolderNames } from "../../../src/archive/folder-names.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
let names: FolderNames;
beforeEach(() => {
  dir = tempDir("rcr-names-");
  names = new FolderNames(new LocalFolder(dir.path));
});
afterEach(() => dir.cleanup());

const taken = (key: string) => names.taken(relPath(key));

describe("FolderNames", () => {
  it("answers from one listing per folder, as the folder was when first read", async () => {
    mkdirSync(join(dir.path, "a"));
    writeFileSync(join(dir.path, "a", "x.mp3"), "");
    expect(await taken("a/x.mp3")).toBe(true);
    expect(await taken("a/y.mp3")).toBe(false);
    writeFileSync(join(dir.path, "a", "y.mp3"), ""); // written later: the run tracks its own names
    expect(await taken("a/y.mp3")).toBe(false);
  });

  it("counts a partial's name only while the partial is still there", async () => {
    writeFileSync(join(dir.path, "x.mp3.part"), "");
    writeFileSync(join(dir.path, "z.mp3.part"), "");
    expect(await taken("x.mp3")).toBe(true);
    expect(await taken("x.mp3.part")).toBe(true); // the file itself is an entry too
    rmSync(join(dir.path, "z.mp3.part")); // removed after the folder was read
    expect(await taken("z.mp3")).toBe(false);
  });

  it("matches names that differ only in case or Unicode normalisation", async () => {
    writeFileSync(join(dir.path, "Smith.mp3"), "");
    writeFileSync(join(dir.path, "Jose\u0301.mp3"), ""); // NFD, as macOS may spell it
    writeFileSync(join(dir.path, "Jose\u0301.wav.part"), "");
    expect(await taken("smith.MP3")).toBe(true);
    expect(await taken("JOSÉ.mp3")).toBe(true);
    expect(await taken("josé.wav")).toBe(true); // the partial, found under its own spelling
    expect(await taken("Smith_2.mp3")).toBe(false);
  });

  it("keys are NFC and lower case, independent of the locale", () => {
    expect(collisionKey("A/Jose\u0301 SMITH.mp3")).toBe("a/josé smith.mp3");
    expect(collisionKey("İSTANBUL")).toBe("İSTANBUL".toLowerCase().normalize("NFC"));
  });

  it("treats a missing folder as empty", async () => {
    expect(await taken("missing/x.mp3")).toBe(false);
  });
});
