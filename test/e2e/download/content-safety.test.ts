import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Answer, json, parseJson, type Tamper } from "../../helpers/tamper-proxy.js";
import {
  type DownloadEnv,
  expectAllSaved,
  filesBelow,
  manifestOf,
  setupDownload,
  sha256File,
  summaryOf,
} from "./helpers.js";
import { outsideDir, setupProxiedDownload } from "./proxied.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const contentId = (path: string) => /\/recording\/(\d+)\/content$/.exec(path)?.[1];
const noDuplicates = (env: DownloadEnv) =>
  expect(filesBelow(env.out).filter((f) => /_\d{10,}_\d+\.\w+$/.test(f))).toEqual([]);

/** Rewrite every record of every call-log page. */
function records(
  rewrite: (record: Record<string, unknown> & { recording?: { id: string } }) => void,
): Tamper {
  return async (req, ctx) => {
    if (!req.url.pathname.endsWith("/call-log")) return undefined;
    const page = parseJson<{ records: Array<Record<string, unknown> & { recording?: { id: string } }> }>(
      await ctx.forward(),
    );
    for (const record of page.records) rewrite(record);
    return json(page);
  };
}

const emptyAudio: Answer = {
  status: 200,
  headers: { "content-type": "audio/mpeg", "content-length": "0" },
  body: Buffer.alloc(0),
};

describe("content: an empty body is a recording only when the platform says it is empty", () => {
  it("an empty 200 for a recording with a duration fails it (never a 0-byte file); the next run saves it", async () => {
    let victim: string | undefined;
    const proxied = await setupProxiedDownload({}, (req) => {
      const id = contentId(req.url.pathname);
      if (id === undefined) return undefined;
      victim ??= id;
      return id === victim ? emptyAudio : undefined;
    });
    e = proxied;
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(3);
    expect(summaryOf(result.stdout).failures).toEqual([
      expect.objectContaining({
        recordingId: victim,
        reason: "failed",
        error: expect.stringMatching(/empty/),
      }),
    ]);
    expect(manifestOf(e.out).map((m) => m.recordingId)).not.toContain(victim);
    for (const file of filesBelow(e.out)) expect(statSync(join(e.out, file)).size, file).toBeGreaterThan(0);
    proxied.proxy.set(undefined);
    const rerun = await e.download();
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectAllSaved(e);
  });

  it("an empty 200 for a recording whose call lasted 0 s is saved as the 0-byte recording it is", async () => {
    const proxied = await setupProxiedDownload({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    e = proxied;
    const [first] = e.emu.control.recordings();
    proxied.proxy.set(async (req, ctx) => {
      if (contentId(req.url.pathname) === first?.id) return emptyAudio;
      return records((record) => {
        if (record.recording?.id === first?.id) record.duration = 0;
      })(req, ctx);
    });
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const entry = manifestOf(e.out).find((m) => m.recordingId === first?.id);
    expect(entry?.bytes).toBe(0);
  });
});

describe("content: a resume never splices two versions of a recording", () => {
  for (const honest of [true, false]) {
    it(`the content changed between attempts (server ${honest ? "honours" : "ignores"} If-Range): the file is the new version, whole`, async () => {
      const proxied = await setupProxiedDownload({
        calls: 1,
        withRecordingRatio: 1,
        recordingBytes: 200_000,
      });
      e = proxied;
      const [only] = e.emu.control.recordings();
      const v1 = Buffer.alloc(200_000, 0x11);
      const v2 = Buffer.alloc(150_000, 0x22); // another version: another size
      const ifRanges: Array<string | undefined> = [];
      let requests = 0;
      proxied.proxy.set((req, ctx) => {
        if (contentId(req.url.pathname) !== only?.id) return undefined;
        requests++;
        ifRanges.push(req.headers["if-range"] as string | undefined);
        const { res } = ctx;
        if (requests === 1) {
          res.writeHead(200, { "content-type": "audio/mpeg", "content-length": v1.length, etag: '"v1"' });
          res.write(v1.subarray(0, 80_000), () => setTimeout(() => res.destroy(), 50));
          return "handled";
        }
        const range = /bytes=(\d+)-/.exec(String(req.headers.range ?? ""));
        const matches = req.headers["if-range"] === '"v2"';
        if (range && (matches || !honest)) {
          const start = Number(range[1]);
          const body = v2.subarray(start);
          res.writeHead(206, {
            "content-type": "audio/mpeg",
            "content-length": body.length,
            "content-range": `bytes ${start}-${v2.length - 1}/${v2.length}`,
            etag: '"v2"',
          });
          res.end(body);
        } else {
          res.writeHead(200, { "content-type": "audio/mpeg", "content-length": v2.length, etag: '"v2"' });
          res.end(v2);
        }
        return "handled";
      });
      const result = await e.download();
      expect(result.code, result.stderr).toBe(0);
      const [entry] = manifestOf(e.out);
      const saved = readFileSync(join(e.out, ...(entry?.path ?? "").split("/")));
      expect(saved.equals(v2)).toBe(true);
      expect(ifRanges[1]).toBe('"v1"'); // the resume named the version it continues
    });
  }
});

describe("content: files already in DIR are recognised, never duplicated", () => {
  it("a DIR copied without its state folder re-learns its files: no _2, no content written twice", async () => {
    e = await setupDownload();
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const before = filesBelow(e.out);
    rmSync(join(e.out, ".rc-recordings"), { recursive: true });
    e.emu.control.resetStats();
    const result = await e.download(["--from", "2d", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(filesBelow(e.out)).toEqual(before);
    noDuplicates(e);
    await expectAllSaved(e);
    // The next run trusts the manifest again: no content request at all.
    e.emu.control.resetStats();
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    expect(e.emu.stats.contentRequests).toBe(0);
  });

  it("a torn last manifest line: the file it described is adopted, not downloaded beside itself", async () => {
    e = await setupDownload();
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const manifest = join(e.out, ".rc-recordings", "manifest.jsonl");
    const text = readFileSync(manifest, "utf8");
    writeFileSync(manifest, text.slice(0, text.length - 40)); // the last line torn mid-way
    const result = await e.download(["--from", "2d"]);
    expect(result.code, result.stderr).toBe(0);
    noDuplicates(e);
    await expectAllSaved(e);
  });

  it("killed between rename and manifest line, size unknown (chunked): the renamed file is adopted", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1, transferredCalls: false });
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const manifest = join(e.out, ".rc-recordings", "manifest.jsonl");
    const lines = readFileSync(manifest, "utf8").trimEnd().split("\n");
    const last = JSON.parse(lines.at(-1) ?? "{}") as {
      recordingId: string;
      path: string;
      contentType: string;
    };
    writeFileSync(manifest, `${lines.slice(0, -1).join("\n")}\n`); // the line never made it
    // …while the journal still holds the transfer's record, without a total (the body was chunked).
    mkdirSync(join(e.out, ".rc-recordings", "partial"), { recursive: true });
    writeFileSync(
      join(e.out, ".rc-recordings", "partial", `${last.recordingId}.json`),
      JSON.stringify({ path: last.path, contentType: last.contentType, recordingId: last.recordingId }),
    );
    const result = await e.download(["--from", "2d"]);
    expect(result.code, result.stderr).toBe(0);
    noDuplicates(e);
    await expectAllSaved(e);
  });

  it("a file under a recording's name with other bytes is not adopted: the recording gets its own name", async () => {
    e = await setupDownload();
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const [entry] = manifestOf(e.out);
    const path = join(e.out, ...(entry?.path ?? "").split("/"));
    rmSync(join(e.out, ".rc-recordings"), { recursive: true });
    writeFileSync(path, Buffer.alloc(entry?.bytes ?? 0, 0x55)); // same size, other content
    const result = await e.download(["--from", "2d"]);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(e);
    expect(manifestOf(e.out).find((m) => m.recordingId === entry?.recordingId)?.path).not.toBe(entry?.path);
    expect(await sha256File(path)).not.toBe(entry?.sha256); // the stranger's file is left alone
  });
});

describe("content: planted links inside DIR fail their recordings, nothing is written outside", () => {
  it("a date folder that is a symbolic link", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const outside = outsideDir();
    const dry = await e.download(["--from", "2d", "--dry-run", "--json"]);
    const dates = new Set(
      (JSON.parse(dry.stdout) as { planned: string[] }).planned.map((p) => p.split("/")[0]),
    );
    mkdirSync(e.out, { recursive: true });
    for (const date of dates) symlinkSync(outside.path, join(e.out, date ?? ""));
    const result = await e.download(["--from", "2d", "--json"]);
    expect(result.code).toBe(3);
    const { failures } = summaryOf(result.stdout);
    expect(failures).toHaveLength((JSON.parse(dry.stdout) as { planned: string[] }).planned.length);
    expect(failures.every((f) => /symbolic link/.test(f.error))).toBe(true);
    expect(readdirSync(outside.path)).toEqual([]);
  });

  it("a template folder ({fromName}) that is a symbolic link", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    const outside = outsideDir();
    const template = ["--template", "calls/{fromName}/{recordingId}.{ext}"];
    const dry = await e.download([...template, "--from", "2d", "--dry-run", "--json"]);
    const folders = new Set(
      (JSON.parse(dry.stdout) as { planned: string[] }).planned.map((p) => p.split("/")[1]),
    );
    mkdirSync(join(e.out, "calls"), { recursive: true });
    for (const folder of folders) symlinkSync(outside.path, join(e.out, "calls", folder ?? ""));
    const result = await e.download([...template, "--from", "2d"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/symbolic link/);
    expect(readdirSync(outside.path)).toEqual([]);
  });
});

describe("content: a saved recording whose sidecar or stat fails fails alone", () => {
  it("a sidecar that cannot be written for an already-saved recording fails that recording, not the run", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1, transferredCalls: false });
    expect((await e.download(["--from", "2d"])).code).toBe(0);
    const [entry, ...rest] = manifestOf(e.out);
    mkdirSync(join(e.out, `${entry?.path}.json`)); // a folder where the sidecar would go
    const result = await e.download(["--from", "2d", "--metadata", "--json"]);
    expect(result.code).toBe(3);
    expect(summaryOf(result.stdout).failures.map((f) => f.recordingId)).toEqual([entry?.recordingId]);
    for (const other of rest) expect(statSync(join(e.out, `${other.path}.json`)).isFile()).toBe(true);
  });
});
