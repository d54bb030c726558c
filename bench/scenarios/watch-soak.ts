import { readFileSync } from "node:fs";
import type { PlannedCall } from "../../test/emulator/index.js";
import type { BenchContext } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import { freshDir } from "../lib/rc.js";
import { fmt, type Row, type ScenarioResult } from "../lib/report.js";
import { percentile, startWatch } from "../lib/watch-process.js";

/**
 * Issue 18: a watch runs for days, so its memory must not grow with what it has seen. Three equal bursts of calls
 * (each call five telephony events or more: Setup, Proceeding, Answered, Disconnected…) are made while `watch`
 * runs, each burst with a WebSocket drop halfway and then archived in full; the watch's resident set is sampled
 * from /proc twice a second. V8 grows its heap lazily during the first burst, so flat means: the RSS after the
 * third burst (the median of its last 5 s) exceeds that after the first by at most `MAX_GROWTH_MIB`. The Heavy
 * budget is generous here: this scenario is about memory, scenario 9 about latency.
 */
const MAX_GROWTH_MIB = 32;
const MiB = 1024 * 1024;

/** The child's resident set (bytes), or undefined once it is gone. */
function rssOf(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

export async function watchSoak(ctx: BenchContext): Promise<ScenarioResult> {
  const calls = ctx.quick ? 600 : 2_100;
  const intervalMs = 50;
  const emulator = await startEmulator({
    calls: 4,
    withRecordingRatio: 1,
    callLogDelayMs: 2_000,
    rateLimits: { windowSec: 2, penaltySec: 2, limits: { heavy: 400 } },
  });
  const out = freshDir(ctx.dir, "out-soak");
  try {
    const watch = await startWatch(emulator, { out, config: freshDir(ctx.dir, "rc-config-soak") }, [
      "--sweep",
      "1m",
    ]);
    const pid = watch.child.pid as number;
    const samples: number[] = [];
    const sampler = setInterval(() => {
      const rss = rssOf(pid);
      if (rss !== undefined) samples.push(rss);
    }, 500);
    const ids: string[] = [];
    let dropped = 0;
    /** One burst: its calls made, a drop halfway, every recording archived; then the RSS at rest. */
    const burst = async (): Promise<number> => {
      const planned = (await emulator.control({
        action: "startCalls",
        plan: { count: calls / 3, intervalMs, ringMs: 200, talkMs: 500, recordingBytes: 4_000 },
      })) as PlannedCall[];
      await new Promise((resolve) => setTimeout(resolve, (calls / 3) * intervalMs * 0.5));
      dropped += (await emulator.control({ action: "dropConnections" })) as number;
      ids.push(...planned.map((c) => c.recordingId).filter((id): id is string => id !== undefined));
      await watch.waitFor(() => ids.every((id) => watch.seen.has(id)), 10 * 60_000, "calls not archived");
      const restFrom = samples.length;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      return median(samples.slice(restFrom));
    };
    try {
      ctx.log(`  3 × ${calls / 3} calls, one every ${intervalMs} ms, a WebSocket drop in each burst…`);
      const afterFirst = await burst();
      await burst();
      const afterThird = await burst();
      clearInterval(sampler);
      const stats = await emulator.stats();
      const { code, stopMs } = await watch.stop();
      const peak = Math.max(...samples);
      const growthMiB = (afterThird - afterFirst) / MiB;
      const missed = ids.filter((id) => !watch.seen.has(id)).length;
      const title = `10. Watch soak: ${calls} calls (${stats.ws.notificationsSent} events), ${dropped} WebSocket drops`;
      const rows: Row[] = [
        {
          scenario: title,
          metric: "watch RSS at rest after burst 1 → after burst 3 (peak)",
          values: {
            "rc-recordings": `${(afterFirst / MiB).toFixed(0)} → ${(afterThird / MiB).toFixed(0)} MiB (${(peak / MiB).toFixed(0)} MiB)`,
          },
          target: `growth ≤ ${MAX_GROWTH_MIB} MiB`,
          met: samples.length >= 8 && growthMiB <= MAX_GROWTH_MIB,
        },
        {
          scenario: title,
          metric: "recordings missed / SIGTERM → exit",
          values: { "rc-recordings": `${missed} of ${ids.length} / exit ${code} in ${fmt.s(stopMs)}` },
          target: "0 / exit 0 ≤ 10 s",
          met: missed === 0 && code === 0 && stopMs <= 10_000,
        },
      ];
      return {
        id: "watch-soak",
        title,
        rows,
        raw: { samples, afterFirst, afterThird, peak, missed, dropped, stats, code, stopMs },
      };
    } finally {
      clearInterval(sampler);
      watch.kill();
    }
  } finally {
    await emulator.stop();
  }
}
