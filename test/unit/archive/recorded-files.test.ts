import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DigestSet } from "../../../src/archive/digest-set.js";
import { type RecordedFiles, scanRecordedFiles } from "../../../src/archive/recorded-files.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { BusyError } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-recorded-");
});
afterEach(() => dir.cleanup());

const manifestFile = () => join(dir.path, ".rc-recordings", "manifest.jsonl");

function line(id: string, path: string, bytes: number, sha256 = `sha-${id}-${bytes}`): string {
  return `${JSON.stringify({ recordingId: id, callId: `c${id}`, path, bytes, sha256, startTime: `t${id}` })}\n`;
}

function writeManifest(...lines: string[]): void {
  mkdirSync(join(dir.path, ".rc-recordings"), { recursive: true });
  writeFileSync(manifestFile(), lines.join(""));
}

async function all(files: RecordedFiles): Promise<unknown[]> {
  const seen: unknown[] = [];
  for await (const file of files.files()) seen.push(file);
  return seen;
}

describe("scanRecordedFiles (verify's two passes over the manifest)", () => {
  it("hands over each recording's latest line only, counts and sums those, and knows their paths", async () => {
    writeManifest(
      line("1", "a/one.mp3", 10),
      line("2", "a/two.mp3", 20),
      '{"record":"unsaved","recordingId":"9","startTime":"t","reason":"failed","error":"x"}\n',
      "not json\n",
      line("1", "b/One.mp3", 11), // saved again elsewhere: this line wins, the first is not checked
      line("3", "../out.mp3", 5), // leads out of DIR: no recording
    );
    const files = (await scanRecordedFiles(new LocalFolder(dir.path))) as RecordedFiles;
    expect(files.count).toBe(2);
    expect(files.bytes).toBe(31);
    expect(await all(files)).toEqual([
      { recordingId: "2", path: "a/two.mp3", bytes: 20, sha256: "sha-2-20", startTime: "t2" },
      { recordingId: "1", path: "b/One.mp3", bytes: 11, sha256: "sha-1-11", startTime: "t1" },
    ]);
    // Compared as a folder compares names (case, Unicode normalisation); the older path is not listed.
    expect(files.lists("B/one.MP3")).toBe(true);
    expect(files.lists("a/two.mp3")).toBe(true);
    expect(files.lists("a/one.mp3")).toBe(false);
  });

  it("reads every line once through `read` in the first pass, and says there is no archive without lines or a mark", async () => {
    writeManifest(line("1", "a.mp3", 1), line("2", "b.mp3", 2));
    const read: string[] = [];
    const files = (await scanRecordedFiles(new LocalFolder(dir.path), (text) => {
      read.push(text);
      return JSON.parse(text);
    })) as RecordedFiles;
    await all(files);
    expect(read).toHaveLength(2);
    writeManifest();
    expect(await scanRecordedFiles(new LocalFolder(dir.path))).toBeUndefined();
  });

  it("ignores lines appended after the first pass, and refuses (BusyError) when the lines it read changed", async () => {
    writeManifest(line("1", "a.mp3", 1), line("2", "b.mp3", 2));
    const appended = (await scanRecordedFiles(new LocalFolder(dir.path))) as RecordedFiles;
    appendFileSync(manifestFile(), line("1", "c.mp3", 3));
    expect((await all(appended)).map((f) => (f as { path: string }).path)).toEqual(["a.mp3", "b.mp3"]);

    writeManifest(line("1", "a.mp3", 1), line("2", "b.mp3", 2), line("3", "c.mp3", 3));
    const rewritten = (await scanRecordedFiles(new LocalFolder(dir.path))) as RecordedFiles;
    // A compaction that read a segment twice shifts every later line: a line is now where another was.
    const text = readFileSync(manifestFile(), "utf8").split("\n");
    writeManifest(`${text[0]}\n`, `${text[0]}\n`, `${text[1]}\n`, `${text[2]}\n`);
    await expect(all(rewritten)).rejects.toBeInstanceOf(BusyError);

    writeManifest(line("1", "a.mp3", 1), line("2", "b.mp3", 2));
    const edited = (await scanRecordedFiles(new LocalFolder(dir.path))) as RecordedFiles;
    writeManifest(line("1", "a.mp3", 1, "other"), line("2", "b.mp3", 2));
    await expect(all(edited)).rejects.toBeInstanceOf(BusyError);
  });
});

describe("DigestSet", () => {
  it("holds what was added, across growing, and nothing else", () => {
    const set = new DigestSet();
    for (let i = 0; i < 5000; i++) set.add(`2026-01-01/call_${i}.mp3`);
    set.add("2026-01-01/call_7.mp3");
    expect(set.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(set.has(`2026-01-01/call_${i}.mp3`)).toBe(true);
    for (let i = 5000; i < 10000; i++) expect(set.has(`2026-01-01/call_${i}.mp3`)).toBe(false);
    expect(set.has("")).toBe(false);
  });
});
