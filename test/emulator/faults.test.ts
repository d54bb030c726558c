import { afterEach, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login, rawGet } from "./harness.js";
import { type Emulator, type Faults, type RecordingSummary, start } from "./index.js";

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function boot(faults: Faults, recordingBytes = 200_000) {
  emu = await start({ rateLimits: false, recordingBytes, faults });
  const token = (await login(emu)).access_token;
  const recordings = emu.control.recordings();
  const [a, b] = recordings;
  if (!a || !b) throw new Error("need recordings");
  return { e: emu, token, a, b };
}

const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("faults", () => {
  it("reset: RST mid-body on the first attempt of each recording, then clean", async () => {
    const { e, token, a, b } = await boot({ reset: { firstAttemptsPerRecording: 1, afterBytes: 50_000 } });
    const first = await rawGet(a.contentUri, auth(token));
    expect(first.status).toBe(200);
    expect(first.headers["content-length"]).toBe("200000");
    expect(first.ending).toBe("ECONNRESET");
    expect(first.body.length).toBeLessThanOrEqual(50_000);
    const second = await rawGet(a.contentUri, auth(token));
    expect(second.ending).toBe("end");
    expect(second.body.length).toBe(200_000);
    expect((await rawGet(b.contentUri, auth(token))).ending).toBe("ECONNRESET");
    expect(e.stats.faultsInjected.reset).toBe(2);
    expect(e.stats.contentRequestsCompleted).toBe(1);
  });

  it("truncate: full Content-Length declared, fewer bytes, clean close; fetch sees an error", async () => {
    const { e, token, a } = await boot({ truncate: { firstRequests: 2 } });
    const cut = await rawGet(a.contentUri, auth(token));
    expect(cut.ending).toBe("end");
    expect(cut.headers["content-length"]).toBe("200000");
    expect(cut.body.length).toBe(100_000);
    expect(cut.body.equals(e.control.recordingContent(a.id, 0, 100_000))).toBe(true);
    const res = await get(e, a.contentUri, token);
    await expect(res.arrayBuffer()).rejects.toThrow();
    const whole = await get(e, a.contentUri, token);
    expect(Buffer.from(await whole.arrayBuffer()).length).toBe(200_000);
    expect(e.stats.faultsInjected.truncate).toBe(2);
  });

  it("truncates ranged responses within the requested range", async () => {
    const { e, token, a } = await boot({ truncate: { recordingIds: [] } });
    e.control.setFaults({ truncate: { recordingIds: [a.id], afterBytes: 10 } });
    const cut = await rawGet(a.contentUri, { ...auth(token), Range: "bytes=1000-1999" });
    expect(cut.status).toBe(206);
    expect(cut.body.equals(e.control.recordingContent(a.id, 1000, 1010))).toBe(true);
  });

  it("unavailable: 503 + Retry-After on content, or on API requests with scope api", async () => {
    const { e, token, a } = await boot({ unavailable: { firstRequests: 1, retryAfterSec: 3 } });
    const res = await get(e, a.contentUri, token);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("3");
    expect((await errorOf(res)).errors[0]?.errorCode).toBeTruthy();
    expect((await get(e, a.contentUri, token)).status).toBe(200);
    e.control.setFaults({ unavailable: { firstRequests: 1, scope: "api" } });
    const log = await get(e, CALL_LOG, token);
    expect(log.status).toBe(503);
    await log.arrayBuffer();
    expect((await get(e, CALL_LOG, token)).status).toBe(200);
    expect(e.stats.faultsInjected.unavailable).toBe(2);
  });

  it("probabilistic faults are deterministic for a seed", async () => {
    const outcomes = async (): Promise<string[]> => {
      const { e, token, a } = await boot({ reset: { probability: 0.5 }, seed: 42 }, 20_000);
      const endings = [];
      for (let i = 0; i < 12; i++) endings.push((await rawGet(a.contentUri, auth(token))).ending);
      await e.stop();
      return endings;
    };
    const first = await outcomes();
    expect(first).toContain("ECONNRESET");
    expect(first).toContain("end");
    expect(await outcomes()).toEqual(first);
  });

  it("bandwidth paces content bodies; latency delays every request", async () => {
    const { e, token, a } = await boot({ bandwidth: 200_000 }, 100_000);
    let started = performance.now();
    const body = (await rawGet(a.contentUri, auth(token))).body;
    expect(body.length).toBe(100_000);
    expect(performance.now() - started).toBeGreaterThan(400);
    e.control.setFaults({ latencyMs: 150 });
    started = performance.now();
    await (await get(e, CALL_LOG, token)).arrayBuffer();
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("counts concurrent downloads", async () => {
    const { e, token, a, b } = await boot({ bandwidth: 400_000 }, 100_000);
    const bodies = await Promise.all(
      [a, b, a].map((r: RecordingSummary) => rawGet(r.contentUri, auth(token))),
    );
    expect(bodies.every((r) => r.body.length === 100_000)).toBe(true);
    expect(e.stats.peakConcurrentDownloads).toBe(3);
    expect(e.stats.concurrentDownloads).toBe(0);
    expect(e.stats.bytesSent).toBe(300_000);
  });
});
