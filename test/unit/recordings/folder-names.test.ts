import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collisionKey, FolderNames } from "../../../src/recordings/folder-names.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-names-");
});
afterEach(() => dir.cleanup());

describe("FolderNames", () => {
  it("answers from one listing per folder, as the folder was when first read", async () => {
    mkdirSync(join(dir.path, "a"));
    writeFileSync(join(dir.path, "a", "x.mp3"), "");
    const names = new FolderNames();
    expect(await names.has(join(dir.path, "a", "x.mp3"))).toBe(true);
    expect(await names.has(join(dir.path, "a", "y.mp3"))).toBe(false);
    writeFileSync(join(dir.path, "a", "y.mp3"), ""); // written later: the run tracks its own names
    expect(await names.has(join(dir.path, "a", "y.mp3"))).toBe(false);
  });

  it("stillHas: an entry removed since the folder was read no longer counts", async () => {
    writeFileSync(join(dir.path, "x.mp3.part"), "");
    const names = new FolderNames();
    expect(await names.stillHas(join(dir.path, "x.mp3.part"))).toBe(true);
    rmSync(join(dir.path, "x.mp3.part"));
    expect(await names.has(join(dir.path, "x.mp3.part"))).toBe(true);
    expect(await names.stillHas(join(dir.path, "x.mp3.part"))).toBe(false);
  });

  it("matches names that differ only in case or Unicode normalisation", async () => {
    writeFileSync(join(dir.path, "Smith.mp3"), "");
    writeFileSync(join(dir.path, "Jose\u0301.mp3"), ""); // NFD, as macOS may spell it
    const names = new FolderNames();
    expect(await names.has(join(dir.path, "smith.MP3"))).toBe(true);
    expect(await names.has(join(dir.path, "JOSÉ.mp3"))).toBe(true);
    expect(await names.stillHas(join(dir.path, "josé.mp3"))).toBe(true);
    expect(await names.has(join(dir.path, "Smith_2.mp3"))).toBe(false);
  });

  it("keys are NFC and lower case, independent of the locale", () => {
    expect(collisionKey("A/Jose\u0301 SMITH.mp3")).toBe("a/josé smith.mp3");
    expect(collisionKey("İSTANBUL")).toBe("İSTANBUL".toLowerCase().normalize("NFC"));
  });

  it("treats a missing folder as empty", async () => {
    expect(await new FolderNames().has(join(dir.path, "missing", "x.mp3"))).toBe(false);
  });
});
