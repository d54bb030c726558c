import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login } from "./harness.js";
import { type Emulator, type RecordingSummary, start } from "./index.js";

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("recording content", () => {
  let emu: Emulator;
  let token: string;
  let rec: RecordingSummary;
  beforeAll(async () => {
    emu = await start({ rateLimits: false });
    token = (await login(emu)).access_token;
    const first = emu.control.recordings()[0];
    if (!first) throw new Error("no recordings");
    rec = first;
  });
  afterAll(() => emu.stop());

  it("streams the whole recording with exact length, type and checksum", async () => {
    const before = emu.stats.contentRequestsCompleted;
    const res = await get(emu, rec.contentUri, token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(rec.contentType);
    expect(res.headers.get("content-length")).toBe(String(rec.bytes));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(emu.control.expectedBytes(rec.id));
    expect(sha256(body)).toBe(emu.control.expectedSha256(rec.id));
    expect(emu.stats.contentRequestsCompleted).toBe(before + 1);
  });

  it("gives every recording different content", () => {
    const digests = emu.control.recordings().map((r) => emu.control.expectedSha256(r.id));
    expect(new Set(digests).size).toBe(digests.length);
  });

  it("answers Range requests with 206 + Content-Range (a-b, a-, -n)", async () => {
    const size = rec.bytes;
    for (const [range, start, end] of [
      ["bytes=100-199", 100, 200],
      [`bytes=${size - 10}-`, size - 10, size],
      ["bytes=-25", size - 25, size],
      [`bytes=5-${size + 100}`, 5, size],
    ] as const) {
      const res = await get(emu, rec.contentUri, token, { range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end - 1}/${size}`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.equals(emu.control.recordingContent(rec.id, start, end))).toBe(true);
    }
  });

  it("answers an unsatisfiable range with 416 CMN-107, and ignores a stale If-Range", async () => {
    const res = await get(emu, rec.contentUri, token, { range: `bytes=${rec.bytes}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${rec.bytes}`);
    expect((await errorOf(res)).errors[0]?.errorCode).toBe("CMN-107");
    const stale = await get(emu, rec.contentUri, token, { range: "bytes=0-9", "if-range": '"other"' });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
  });

  it("accepts ?access_token= and rejects missing auth", async () => {
    const res = await fetch(`${rec.contentUri}?access_token=${encodeURIComponent(token)}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const anonymous = await fetch(rec.contentUri);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
  });

  it("serves content only on the media origin; metadata on the API origin", async () => {
    const onApi = await get(emu, rec.contentUri.replace(emu.media, emu.server), token);
    expect(onApi.status).toBe(404);
    expect(onApi.headers.get("content-type")).toContain("application/json");
    await onApi.arrayBuffer();
    const meta = await get(emu, `/restapi/v1.0/account/~/recording/${rec.id}`, token);
    expect(await meta.json()).toEqual({
      uri: expect.stringContaining(`${emu.server}/`),
      id: rec.id,
      contentUri: rec.contentUri,
      contentType: rec.contentType,
      duration: expect.any(Number),
    });
    const mediaMeta = await get(emu, `${emu.media}/restapi/v1.0/account/~/recording/${rec.id}`, token);
    expect(mediaMeta.status).toBe(404);
    await mediaMeta.arrayBuffer();
  });

  it("answers 404 CMN-102 for unknown and deleted recordings", async () => {
    const unknown = await get(emu, rec.contentUri.replace(rec.id, "123"), token);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).errors[0]?.errorCode).toBe("CMN-102");
    const victim = emu.control.recordings()[1];
    if (!victim) throw new Error("need two recordings");
    emu.control.deleteRecording(victim.id);
    const deleted = await get(emu, victim.contentUri, token);
    expect(deleted.status).toBe(404);
    expect((await errorOf(deleted)).errors[0]?.errorCode).toBe("CMN-102");
    const meta = await get(emu, `/restapi/v1.0/account/~/recording/${victim.id}`, token);
    expect(meta.status).toBe(404);
    await meta.arrayBuffer();
  });

  it("supports HEAD", async () => {
    const res = await fetch(rec.contentUri, {
      method: "HEAD",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(rec.bytes));
  });
});

describe("foreign contentUri", () => {
  let emu: Emulator | undefined;
  // Stands in for a host that must never see the token (the CLI's tests use it that way).
  const foreign = createServer((_req, res) => res.end("foreign"));
  beforeAll(() => new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve)));
  afterAll(() => new Promise<void>((resolve) => foreign.close(() => resolve())));
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it("points chosen recordings at another origin (option and control)", async () => {
    const origin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
    emu = await start({ rateLimits: false, foreignContent: { origin, recordingIds: ["2800000000"] } });
    const token = (await login(emu)).access_token;
    const other = emu.control.recordings()[1];
    if (!other) throw new Error("need two recordings");
    emu.control.setForeignContent(other.id, origin);
    // Calls whose recordings are only on their legs have none here (Simple view).
    const records = (
      (await (await get(emu, `${CALL_LOG}?recordingType=All`, token)).json()) as {
        records: { recording?: { id: string; contentUri: string } }[];
      }
    ).records.flatMap((r) => (r.recording ? [{ recording: r.recording }] : []));
    const elsewhere = new Set(
      records.filter((r) => r.recording.contentUri.startsWith(`${origin}/`)).map((r) => r.recording.id),
    );
    expect(elsewhere).toEqual(new Set(["2800000000", other.id]));
    const onMedia = records.filter((r) => r.recording.contentUri.startsWith(`${emu?.media}/`));
    expect(onMedia.every((r) => !elsewhere.has(r.recording.id))).toBe(true);
    // The media origin itself does not serve a recording that lives elsewhere.
    const res = await get(emu, `${emu.media}/restapi/v1.0/account/~/recording/2800000000/content`, token);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});
