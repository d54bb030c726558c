import type { BenchContext } from "../lib/context.js";
import { twoDaysAgo } from "../lib/context.js";
import { callsForRecordings } from "../lib/dataset.js";
import { startEmulator } from "../lib/emulator-client.js";
import type { TimelineEntry } from "../lib/emulator-protocol.js";
import { type Measured, tail } from "../lib/measure.js";
import { runSdkPeer } from "../lib/peer.js";
import { freshDir, RcProfile } from "../lib/rc.js";
import { fmt, type Row, type ScenarioResult, type Tool } from "../lib/report.js";

const HEAVY_LIMIT = 10;
/** Call log, recording metadata and content: the Heavy group. */
const HEAVY_PATH = /\/call-log$|\/recording\/[^/]+(\/content)?$/;

export interface RateUse {
  /** Heavy requests the emulator accepted (not 429). */
  accepted: number;
  rejected429: number;
  /** From the first to the last Heavy request's arrival, ms. */
  spanMs: number;
  /** accepted / (limit × (1 + span / window)): see `utilisation`. */
  utilisation: number;
}

/**
 * Utilisation of the allowed rate. A window opens at the first request, so a span of `s` seconds from the
 * first to the last Heavy request allows at most `limit × (1 + s / window)` requests: `limit` at once, then
 * `limit` per further window. Utilisation = Heavy requests accepted / that allowance. A client that fires
 * `limit` requests the moment each window opens scores 100 %; idle time, safety margins and penalties lower
 * it; 429s are never counted as use.
 */
export function rateUse(timeline: readonly TimelineEntry[], limit: number, windowSec: number): RateUse {
  const heavy = timeline.filter((e) => HEAVY_PATH.test(e.path));
  const accepted = heavy.filter((e) => e.status !== 429).length;
  const rejected429 = heavy.length - accepted;
  const times = heavy.map((e) => e.at);
  const spanMs = times.length ? Math.max(...times) - Math.min(...times) : 0;
  const allowance = limit * (1 + spanMs / 1000 / windowSec);
  return { accepted, rejected429, spanMs, utilisation: allowance > 0 ? accepted / allowance : 0 };
}

interface ToolRun {
  tool: Tool;
  run: Measured;
  saved: number;
  use: RateUse;
}

export async function rateLimited(ctx: BenchContext): Promise<ScenarioResult> {
  const recordings = ctx.quick ? 30 : 100;
  const windowSec = ctx.quick ? 2 : 3;
  const limits = { windowSec, penaltySec: windowSec, limits: { heavy: HEAVY_LIMIT } };
  const emulator = await startEmulator({
    calls: callsForRecordings(recordings),
    withRecordingRatio: 1,
    rateLimits: limits,
  });
  const runs: ToolRun[] = [];
  try {
    const listed = (await emulator.recordings()).length;
    if (listed !== recordings) throw new Error(`dataset has ${listed} recordings, wanted ${recordings}`);
    const from = twoDaysAgo();
    const rc = new RcProfile(emulator, freshDir(ctx.dir, "rc-config"));
    await rc.login();

    const measureTool = async (
      tool: Tool,
      go: (out: string) => Promise<{ run: Measured; saved: number }>,
    ) => {
      // Fresh buckets (no penalty left over from the previous tool), fresh counters.
      await emulator.control({ action: "setRateLimits", limits });
      await emulator.timeline();
      ctx.log(`  ${tool}…`);
      const { run, saved } = await go(freshDir(ctx.dir, `out-${tool}`));
      runs.push({ tool, run, saved, use: rateUse(await emulator.timeline(), HEAVY_LIMIT, windowSec) });
    };
    await measureTool("rc-recordings", async (out) => {
      const run = await rc.download({ out, from, concurrency: 4 });
      return { run, saved: run.summary?.downloaded ?? 0 };
    });
    for (const tool of ["naive", "concurrent"] as const) {
      await measureTool(tool, async (out) => {
        const run = await runSdkPeer(ctx.scripts[tool], emulator, { out, from });
        return { run, saved: run.result?.downloaded ?? 0 };
      });
    }
  } finally {
    await emulator.stop();
  }

  const rcRun = runs.find((r) => r.tool === "rc-recordings");
  const per = (f: (r: ToolRun) => string) => Object.fromEntries(runs.map((r) => [r.tool, f(r)]));
  const title = `1. Rate-limited: ${recordings} recordings, Heavy ${HEAVY_LIMIT} per ${windowSec} s window (penalty ${windowSec} s)`;
  const rows: Row[] = [
    {
      scenario: title,
      metric: "utilisation of the allowed rate",
      values: per((r) => fmt.pct(r.use.utilisation) + (r.saved < recordings ? " (gave up)" : "")),
      target: "≥ 95 %",
      met: rcRun ? rcRun.use.utilisation >= 0.95 && rcRun.saved === recordings : false,
    },
    {
      scenario: title,
      metric: "429 responses",
      values: per((r) => String(r.use.rejected429)),
      target: "0",
      met: rcRun ? rcRun.use.rejected429 === 0 : false,
    },
    {
      scenario: title,
      metric: "recordings saved",
      values: per((r) => `${r.saved}/${recordings}`),
    },
    { scenario: title, metric: "wall time", values: per((r) => fmt.s(r.run.wallMs)) },
  ];
  return {
    id: "rate-limited",
    title,
    rows,
    raw: {
      recordings,
      windowSec,
      heavyLimit: HEAVY_LIMIT,
      runs: runs.map((r) => ({
        tool: r.tool,
        wallMs: r.run.wallMs,
        code: r.run.code,
        saved: r.saved,
        ...r.use,
        stderrTail: tail(r.run.stderr),
      })),
    },
  };
}
