import { type BenchContext, twoDaysAgo } from "../lib/context.js";
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
  /** From the first to the last accepted Heavy request's arrival, ms. */
  spanMs: number;
  /** The least time the limit allows for `accepted` requests, ms. */
  idealMs: number;
  /** See `rateUse`. */
  utilisation: number;
  /** Arrival of each Heavy request, ms after the first, with its status (for results.json: where time went). */
  arrivals: [number, number | undefined][];
}

/**
 * Utilisation of the allowed rate. Over t ms the limit allows limit × (1 + t / window) requests: `limit` at
 * once (a window opens at a request), then `limit` per window. R accepted requests need at least
 * floor((R - 1) / limit) whole windows between the first and the last one (the client that sends `limit`
 * requests the moment each window opens). Utilisation = the allowance that least time carries ÷ the allowance
 * of the time the tool took, first to last accepted Heavy request:
 *   (1 + idealMs / window) / (1 + spanMs / window).
 * 429s never count as use; idle gaps, safety margins and penalties lower the score. Unlike "accepted ÷ (limit ×
 * windows)" it does not punish a final window that holds the one request left over.
 */
export function rateUse(timeline: readonly TimelineEntry[], limit: number, windowSec: number): RateUse {
  const heavy = timeline.filter((e) => HEAVY_PATH.test(e.path));
  const acceptedTimes = heavy.filter((e) => e.status !== 429).map((e) => e.at);
  const accepted = acceptedTimes.length;
  const first = Math.min(...heavy.map((e) => e.at));
  const spanMs = accepted > 0 ? Math.max(...acceptedTimes) - Math.min(...acceptedTimes) : 0;
  const windowMs = windowSec * 1000;
  const idealMs = accepted > 0 ? Math.floor((accepted - 1) / limit) * windowMs : 0;
  return {
    accepted,
    rejected429: heavy.length - accepted,
    spanMs,
    idealMs,
    utilisation: accepted > 0 ? (1 + idealMs / windowMs) / (1 + Math.max(spanMs, idealMs) / windowMs) : 0,
    arrivals: heavy.map((e): [number, number | undefined] => [e.at - first, e.status]),
  };
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
