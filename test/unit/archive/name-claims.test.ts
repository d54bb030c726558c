import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Manifest } from "../../../src/archive/manifest.js";
import { NameClaims } from "../../../src/archive/name-claims.js";
import { compileTemplate } from "../../../src/archive/naming.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import type { RecordingItem } from "../../../src/listing/types.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-claims-");
});
afterEach(() => dir.cleanup());

const item = (id: string): RecordingItem => ({
  recordingId: id,
  contentUri: `http://media.test/recording/${id}/content`,
  record: { id: `c${id}`, startTime: "2026-01-01T00:00:00.000Z" },
});

async function claims(): Promise<NameClaims> {
  const folder = new LocalFolder(dir.path);
  const manifest = await Manifest.open(folder, { writable: false });
  return new NameClaims(compileTemplate("{recordingId}.{ext}"), manifest, folder);
}

describe("NameClaims for a transfer", () => {
  it("offers a name held by a file nobody accounts for, with its size, again on a retry, and moves on once refused", async () => {
    writeFileSync(join(dir.path, "7.mp3"), Buffer.alloc(123));
    const names = await claims();
    expect(await names.claimForTransfer(item("7"), "audio/mpeg")).toEqual({
      key: "7.mp3",
      occupant: { size: 123 },
    });
    // The attempt failed on the network: asked again, the occupant is still named (never written over).
    expect(await names.claimForTransfer(item("7"), "audio/mpeg")).toEqual({
      key: "7.mp3",
      occupant: { size: 123 },
    });
    names.refuse(relPath("7.mp3"));
    expect(await names.claimForTransfer(item("7"), "audio/mpeg")).toEqual({ key: "7_2.mp3" });
    // No other recording ever gets the refused name either, and a dry run never offers an occupant.
    expect(await names.claim(item("7"), undefined)).toBe("7_2.mp3");
  });

  it("a free name has no occupant", async () => {
    expect(await (await claims()).claimForTransfer(item("8"), "audio/wav")).toEqual({ key: "8.wav" });
  });
});

describe("NameClaims.couldName (a journalled key is followed only to a name the recording could have)", () => {
  it("its template path for the content type, or that with a collision suffix, in any case", async () => {
    const names = await claims();
    const could = (key: string, type = "audio/mpeg") => names.couldName(item("7"), type, relPath(key));
    expect(could("7.mp3")).toBe(true);
    expect(could("7_2.mp3")).toBe(true);
    expect(could("7_13.MP3")).toBe(true);
    expect(could("7.wav", "audio/wav")).toBe(true);
    expect(could("7.wav")).toBe(false); // not for the content type the journal says
    expect(could("8.mp3")).toBe(false); // another recording's
    expect(could("notes/precious.txt")).toBe(false);
    expect(could("7_2.mp3/x.mp3")).toBe(false);
  });
});
