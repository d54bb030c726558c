import { afterEach, describe, expect, it } from "vitest";
import { createApiClient } from "../../../src/api/client.js";
import { RateLimiter } from "../../../src/api/rate-limiter.js";
import { listRecordings } from "../../../src/listing/call-log.js";
import type { RecordingItem } from "../../../src/listing/types.js";
import { Logger } from "../../../src/log/logger.js";
import { login } from "../../emulator/harness.js";
import { type Emulator, start } from "../../emulator/index.js";

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

describe("rate limiter against the emulator", () => {
  it("shares one Heavy budget between listing and downloads: full rate, zero 429s", async () => {
    const windowSec = 1;
    const limit = 5;
    emu = await start({
      calls: 40,
      recordingBytes: 4_000,
      rateLimits: { windowSec, penaltySec: 10, limits: { heavy: limit } },
    });
    const { access_token } = await login(emu);
    const api = createApiClient({
      tokens: { server: emu.server, getAccessToken: async () => access_token, recover: async () => {} },
      limiter: new RateLimiter(),
      log: new Logger("quiet", { write: () => true }),
    });
    const started = Date.now();
    const items: RecordingItem[] = [];
    const to = new Date();
    const from = new Date(to.getTime() - 48 * 3600_000);
    for await (const item of listRecordings(
      api,
      { scope: "account", from, to, type: "All" },
      new Logger("quiet"),
    )) {
      items.push(item);
    }
    const queue = items.slice(0, 19);
    expect(queue).toHaveLength(19);
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const res = await api.get(item.contentUri);
        expect(res.status).toBe(200);
        await res.text();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const elapsed = Date.now() - started;

    expect(emu.stats.rateLimited).toBe(0);
    expect(emu.stats.requestsByGroup.heavy).toBe(20); // 1 call-log page + 19 recordings
    // 20 requests at 5 per window need at least 3 windows; the ideal is just over 3 s. Loose: timing belongs
    // in the benchmark, this only catches a limiter that idles for whole windows.
    expect(elapsed).toBeGreaterThanOrEqual(3 * windowSec * 1000 - 50);
    expect(elapsed).toBeLessThan(3 * windowSec * 1000 * 1.5);
  });
});
