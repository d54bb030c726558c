import type { PlannedCall } from "../../test/emulator/index.js";
import type { BenchContext } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import { freshDir } from "../lib/rc.js";
import { fmt, type Row, type ScenarioResult } from "../lib/report.js";
import { percentile, startWatch } from "../lib/watch-process.js";

/**
 * Issue 18: how long a recording stays unarchived once its call-log record exists. `watch` runs against the
 * emulator while calls are made at a steady rate below the Heavy budget; each call's record (and recording)
 * appears `CALL_LOG_DELAY_MS` after it ends (the platform: seconds). Latency = first time the recording is in the
 * manifest (polled every 100 ms) minus the moment its record appeared. Halfway through, every WebSocket is dropped:
 * the watch must recover and miss nothing.
 *
 * The Heavy budget is scaled down as in the other scenarios (10 requests per 2 s window instead of 60 s); the
 * watch's own timings (first look 5 s, backoff, heartbeats) are real, so the latencies are real seconds.
 *
 * The peers are scheduled runs, and their latency is the wait for the next run (uniform over the period, plus the
 * run itself): computed from the period, not measured (a nightly run would take a day to measure).
 */
const HEAVY_LIMIT = 10;
const WINDOW_SEC = 2;
const CALL_LOG_DELAY_MS = 5_000;
const TARGET_P95_S = 60;

export async function watchLatency(ctx: BenchContext): Promise<ScenarioResult> {
  const calls = ctx.quick ? 50 : 100;
  const intervalMs = ctx.quick ? 400 : 600;
  const emulator = await startEmulator({
    calls: 4,
    withRecordingRatio: 1,
    callLogDelayMs: CALL_LOG_DELAY_MS,
    rateLimits: { windowSec: WINDOW_SEC, penaltySec: WINDOW_SEC, limits: { heavy: HEAVY_LIMIT } },
  });
  const out = freshDir(ctx.dir, "out-watch");
  try {
    const watch = await startWatch(emulator, { out, config: freshDir(ctx.dir, "rc-config-watch") }, [
      "--sweep",
      "15m",
    ]);
    const { seen, waitFor } = watch;
    try {
      ctx.log(
        `  ${calls} calls, one every ${intervalMs} ms, records ${CALL_LOG_DELAY_MS} ms after each call…`,
      );
      const planned = (await emulator.control({
        action: "startCalls",
        plan: { count: calls, intervalMs, ringMs: 200, talkMs: 1000, recordingBytes: 60_000 },
      })) as PlannedCall[];
      // Halfway: the network goes away for a moment.
      await new Promise((resolve) => setTimeout(resolve, (calls * intervalMs) / 2));
      const dropped = (await emulator.control({ action: "dropConnections" })) as number;
      const ids = planned.map((c) => c.recordingId).filter((id): id is string => id !== undefined);
      const last = Math.max(...planned.map((c) => Date.parse(c.appearsAt)));
      await waitFor(
        () => ids.every((id) => seen.has(id)) || Date.now() > last + 5 * 60_000,
        calls * intervalMs + 6 * 60_000,
        "calls not archived",
      );
      const latencies = planned
        .filter((c) => c.recordingId !== undefined && seen.has(c.recordingId))
        .map((c) => ((seen.get(c.recordingId as string) as number) - Date.parse(c.appearsAt)) / 1000)
        .sort((a, b) => a - b);
      const missed = ids.filter((id) => !seen.has(id)).length;
      const stats = await emulator.stats();
      const { code, stopMs } = await watch.stop();
      const p50 = percentile(latencies, 50);
      const p95 = percentile(latencies, 95);
      const max = latencies.at(-1) ?? Number.NaN;
      const title = `9. Watch: record in the call log → recording on disk, ${calls} calls (Heavy ${HEAVY_LIMIT}/${WINDOW_SEC} s)`;
      const s = (seconds: number) => `${seconds.toFixed(1)} s`;
      const rows: Row[] = [
        {
          scenario: title,
          // The peers wait for their next run: uniform over the period (p50 half of it, p95 95 %), plus the run.
          metric:
            "latency p50 / p95 / max (peers, computed: a 15-minute poll ≥ 450 s / 855 s / 900 s; a nightly cron ≥ 12 h / 22.8 h / 24 h)",
          values: { "rc-recordings": `${s(p50)} / ${s(p95)} / ${s(max)}` },
          target: `p95 ≤ ${TARGET_P95_S} s`,
          met: missed === 0 && p95 <= TARGET_P95_S,
        },
        {
          scenario: title,
          metric: `recordings missed through a dropped connection (${dropped} dropped)`,
          values: { "rc-recordings": `${missed} of ${ids.length}` },
          target: "0",
          met: missed === 0 && dropped > 0,
        },
        {
          scenario: title,
          metric: "call-log pages (Heavy) / WebSocket recoveries / SIGTERM → exit",
          values: {
            "rc-recordings": `${stats.callLogRequests} / ${stats.ws.recoveries.Successful} ok, ${stats.ws.recoveries.Failed} failed / exit ${code} in ${fmt.s(stopMs)}`,
          },
          target: "exit 0 ≤ 10 s",
          met: code === 0 && stopMs <= 10_000,
        },
      ];
      return {
        id: "watch",
        title,
        rows,
        raw: {
          latencies,
          missed,
          dropped,
          callLogRequests: stats.callLogRequests,
          ws: stats.ws,
          stopMs,
          code,
        },
      };
    } finally {
      watch.kill();
    }
  } finally {
    await emulator.stop();
  }
}
