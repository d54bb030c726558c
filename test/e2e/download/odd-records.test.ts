import { afterEach, describe, expect, it } from "vitest";
import { wellFormed } from "../../../src/well-formed.js";
import { s3ServerForTest } from "../../helpers/s3-server.js";
import { json, parseJson } from "../../helpers/tamper-proxy.js";
import { summaryOf } from "./helpers.js";
import { type ProxiedDownloadEnv, setupProxiedDownload } from "./proxied.js";

// One odd record must not block the archive: a lone surrogate in a name that goes into an S3 key, and call or
// session ids of unusual types or spellings, used to fail their recording on every run and hold the mark there.
// Names are made safe (a lone surrogate becomes "_", a value that is no text "unknown"), and ids are checked.

let e: ProxiedDownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Rec = Record<string, unknown> & { from?: Record<string, unknown>; recording?: Record<string, unknown> };

/** The odd values, one per record of the first page (the rest of each record as the emulator sent it). */
const ODD: Array<(record: Rec) => void> = [
  (r) => {
    r.from = { ...r.from, name: "Bob \ud800 Smith" }; // a lone high surrogate
  },
  (r) => {
    r.from = { ...r.from, name: "\udfffAlice" }; // a lone low surrogate
  },
  (r) => {
    r.id = { odd: true }; // a call id that is no text
  },
  (r) => {
    r.id = 1234567890123; // a number
    r.sessionId = ["x"];
  },
  (r) => {
    r.id = "../..\\evil\u0000id";
  },
  (r) => {
    if (r.recording) r.recording = { ...r.recording, id: `${String(r.recording.id)}\ud800` };
  },
];

describe("odd records", () => {
  it("lone surrogates in names and odd ids: saved into S3 once, skipped by the next run", async () => {
    const s3 = await s3ServerForTest(["archive"]);
    e = await setupProxiedDownload({ calls: 20, withRecordingRatio: 1, transferredCalls: false });
    e.proxy.set(async (req, ctx) => {
      if (!req.url.pathname.endsWith("/call-log")) return undefined;
      const answer = await ctx.forward();
      const page = parseJson<{ records: Rec[] }>(answer);
      for (const [i, record] of page.records.entries()) ODD[i]?.(record);
      return json(page);
    });
    const env = { ...s3.env };
    const template = "{fromName}/{callId}_{sessionId}_{recordingId}.{ext}";
    const args = ["--out", "s3://archive/calls", "--template", template, "--from", "2d", "--json"];
    const first = await e.run(["download", ...args], { env });
    expect(first.code, first.stderr).toBe(0);
    const summary = summaryOf(first.stdout);
    expect(summary.listed).toBeGreaterThanOrEqual(ODD.length);
    expect(summary).toMatchObject({ downloaded: summary.listed, failed: 0, complete: true });
    const keys = [...(await s3.objects("archive")).keys()].filter((k) => !k.includes(".rc-recordings"));
    expect(keys.some((k) => k.startsWith("calls/Bob _ Smith/"))).toBe(true);
    expect(keys.some((k) => k.startsWith("calls/_Alice/"))).toBe(true);
    expect(keys.every((k) => wellFormed(k) === k)).toBe(true);

    const again = await e.run(["download", ...args], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ downloaded: 0, failed: 0, complete: true });
  }, 120_000);
});
