import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { json, parseJson } from "../../helpers/tamper-proxy.js";
import { type DownloadEnv, expectAllSaved, manifestOf, setupDownload, summaryOf } from "./helpers.js";
import { outsideDir, setupProxiedDownload } from "./proxied.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const stateDir = (env: DownloadEnv) => join(env.out, ".rc-recordings");
const errorLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.startsWith("rc-recordings: "));

describe("download: the state folder and the manifest stay inside DIR", () => {
  it("a state folder that is a symbolic link fails the run with one line; nothing is written outside", async () => {
    e = await setupDownload();
    const outside = outsideDir();
    mkdirSync(e.out);
    symlinkSync(outside.path, stateDir(e));
    const result = await e.download();
    expect(result.code).toBe(1);
    // One error line (a first run's notice about its range may come before it).
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/\.rc-recordings.*symbolic link/)]);
    expect(readdirSync(outside.path)).toEqual([]);
    expect(e.emu.stats.contentRequests).toBe(0);
  });

  it("a partials folder that is a symbolic link fails the run with one line, exit 1 (was 3); nothing written outside", async () => {
    e = await setupDownload();
    const outside = outsideDir();
    mkdirSync(stateDir(e), { recursive: true });
    symlinkSync(outside.path, join(stateDir(e), "partial"));
    const result = await e.download();
    expect(result.code, result.stderr).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/\.rc-recordings\/partial.*symbolic link/),
    ]);
    expect(readdirSync(outside.path)).toEqual([]);
    expect(e.emu.stats.contentRequests).toBe(0);
  });

  it("a manifest that is a symbolic link fails the run; the file it points at is untouched", async () => {
    e = await setupDownload();
    const outside = outsideDir();
    const victim = join(outside.path, "victim.txt");
    writeFileSync(victim, "precious\n");
    mkdirSync(stateDir(e), { recursive: true });
    symlinkSync(victim, join(stateDir(e), "manifest.jsonl"));
    const result = await e.download();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/manifest\.jsonl.*symbolic link/);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
  });
});

describe("download: torn or foreign state never stops the archive", () => {
  it("a 50 MB manifest line is skipped with one warning, and the other lines still count", async () => {
    e = await setupDownload();
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const saved = manifestOf(e.out).length;
    const file = join(stateDir(e), "manifest.jsonl");
    writeFileSync(file, `{"pad":"${"x".repeat(50 * 1024 * 1024)}"}\n${readFileSync(file, "utf8")}`);
    e.emu.control.resetStats();
    const result = await e.download(["--from", "2d", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/skipped 1 line longer than/g)).toHaveLength(1);
    expect(summaryOf(result.stdout)).toMatchObject({ skipped: saved, downloaded: 0 });
    expect(e.emu.stats.contentRequests).toBe(0);
  }, 60_000);

  it("a stray name with % in the partials folder never fails the run", async () => {
    e = await setupDownload();
    mkdirSync(join(stateDir(e), "partial"), { recursive: true });
    for (const stray of ["100%.json", "%E0%A4%A.json", "%zz.json"]) {
      writeFileSync(join(stateDir(e), "partial", stray), "{}");
    }
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).failed).toBe(0);
    await expectAllSaved(e);
  });

  it("a partial journal naming a file that is no recording's never makes it stand in, nor writes over it", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const [adoptable, resumable] = e.emu.control.recordings();
    const notes = join(e.out, "notes");
    mkdirSync(notes, { recursive: true });
    mkdirSync(join(stateDir(e), "partial"), { recursive: true });
    // One record names a file of the size the recording says (it was adopted as the recording); the other names
    // a file with a `.part` beside it (the body was appended to it and renamed over the file).
    const precious = { path: join(notes, "precious.txt"), text: "precious\n".repeat(1000) };
    const diary = { path: join(notes, "diary.txt"), text: "diary\n", part: join(notes, "diary.txt.part") };
    writeFileSync(precious.path, precious.text);
    writeFileSync(diary.path, diary.text);
    writeFileSync(diary.part, "mine too\n");
    const journal = (id: string, record: Record<string, unknown>) =>
      writeFileSync(
        join(stateDir(e as DownloadEnv), "partial", `${id}.json`),
        JSON.stringify({ contentType: "audio/mpeg", recordingId: id, ...record }),
      );
    journal(adoptable?.id as string, { path: "notes/precious.txt", total: precious.text.length });
    journal(resumable?.id as string, { path: "notes/diary.txt", total: resumable?.bytes });

    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    for (const id of [adoptable?.id, resumable?.id]) {
      expect(result.stderr).toMatch(
        new RegExp(
          `recording ${id}: its unfinished transfer names notes/\\w+\\.txt, not a name this recording could have`,
        ),
      );
    }
    expect(readFileSync(precious.path, "utf8")).toBe(precious.text);
    expect(readFileSync(diary.path, "utf8")).toBe(diary.text);
    expect(readFileSync(diary.part, "utf8")).toBe("mine too\n");
    rmSync(diary.part); // the one `.part` below DIR is the user's
    await expectAllSaved(e); // each fetched afresh under its own name, byte-exact
    expect(manifestOf(e.out).map((m) => m.path)).not.toContain("notes/precious.txt");
    expect(readdirSync(join(stateDir(e), "partial"))).toEqual([]);
  });

  it("a recording id too long for a file name is archived (hashed into the names), and skipped next time", async () => {
    const longId = (id: string) => `${id}${"9".repeat(300)}`;
    const proxied = await setupProxiedDownload({}, async (req, ctx) => {
      if (!req.url.pathname.endsWith("/call-log")) return undefined;
      type WithRecording = { recording?: { id: string } };
      const page = parseJson<{ records: Array<WithRecording & { legs?: WithRecording[] }> }>(
        await ctx.forward(),
      );
      for (const holder of page.records.flatMap((record) => [record, ...(record.legs ?? [])]))
        if (holder.recording) holder.recording.id = longId(holder.recording.id);
      return json(page);
    });
    e = proxied;
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const entries = manifestOf(e.out).filter((entry) => entry.recordingId.length > 300);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBe(summaryOf(result.stdout).downloaded); // every recording got the long id
    for (const entry of entries) {
      for (const part of entry.path.split("/")) expect(Buffer.byteLength(part)).toBeLessThan(255);
    }
    const again = await e.download(["--json"]);
    const second = summaryOf(again.stdout);
    expect(second.listed).toBeGreaterThan(0); // the incremental overlap lists some of them again
    expect(second).toMatchObject({ downloaded: 0, failed: 0, skipped: second.listed });
  });
});
