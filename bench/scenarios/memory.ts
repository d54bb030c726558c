import { type BenchContext, twoDaysAgo } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import { type Measured, tail } from "../lib/measure.js";
import { runSdkPeer } from "../lib/peer.js";
import { freshDir, RcProfile } from "../lib/rc.js";
import { fmt, type Row, type ScenarioResult } from "../lib/report.js";

const RSS_TARGET = 100 * 1048576;

interface MemoryRun {
  tool: "rc-recordings" | "naive";
  run: Measured;
  /** Recordings saved, or records listed for the dry run. */
  count: number;
}

function raw(runs: readonly MemoryRun[]) {
  return runs.map((r) => ({
    tool: r.tool,
    wallMs: r.run.wallMs,
    peakRss: r.run.peakRss,
    code: r.run.code,
    count: r.count,
    stderrTail: tail(r.run.stderr),
  }));
}

const per = (runs: readonly MemoryRun[], f: (r: MemoryRun) => string) =>
  Object.fromEntries(runs.map((r) => [r.tool, f(r)]));

/** One huge recording, no rate limit, no bandwidth cap: does the client stream it? */
async function bigRecording(ctx: BenchContext, bytes: number): Promise<MemoryRun[]> {
  const emulator = await startEmulator({
    calls: 1,
    withRecordingRatio: 1,
    recordingBytes: bytes,
    rateLimits: false,
  });
  try {
    const from = twoDaysAgo();
    const rc = new RcProfile(emulator, freshDir(ctx.dir, "rc-config-big"));
    await rc.login();
    ctx.log("  rc-recordings, one big recording…");
    const rcRun = await rc.download({
      out: freshDir(ctx.dir, "out-rc-big"),
      from,
      maxRssPreload: ctx.scripts.maxrss,
    });
    ctx.log("  naive, one big recording…");
    const naive = await runSdkPeer(ctx.scripts.naive, emulator, {
      out: freshDir(ctx.dir, "out-naive-big"),
      from,
      maxRssPreload: ctx.scripts.maxrss,
    });
    return [
      { tool: "rc-recordings", run: rcRun, count: rcRun.summary?.downloaded ?? 0 },
      { tool: "naive", run: naive, count: naive.result?.downloaded ?? 0 },
    ];
  } finally {
    await emulator.stop();
  }
}

/** A long call log listed but not downloaded: does the client hold the whole listing? */
async function longCallLog(ctx: BenchContext, calls: number, peers = true): Promise<MemoryRun[]> {
  const emulator = await startEmulator({ calls, rateLimits: false });
  try {
    const from = twoDaysAgo();
    const rc = new RcProfile(emulator, freshDir(ctx.dir, `rc-config-log-${calls}`));
    await rc.login();
    ctx.log(`  rc-recordings --dry-run, ${calls} records…`);
    const rcRun = await rc.download({
      out: freshDir(ctx.dir, `out-rc-log-${calls}`),
      from,
      dryRun: true,
      maxRssPreload: ctx.scripts.maxrss,
    });
    const rcListed: MemoryRun = { tool: "rc-recordings", run: rcRun, count: rcRun.summary?.listed ?? 0 };
    if (!peers) return [rcListed];
    ctx.log("  naive, listing only…");
    const naive = await runSdkPeer(ctx.scripts.naive, emulator, {
      out: freshDir(ctx.dir, "out-naive-log"),
      from,
      dryRun: true,
      maxRssPreload: ctx.scripts.maxrss,
    });
    return [rcListed, { tool: "naive", run: naive, count: naive.result?.listed ?? 0 }];
  } finally {
    await emulator.stop();
  }
}

export async function memory(ctx: BenchContext): Promise<ScenarioResult> {
  const bigBytes = ctx.quick ? 128 * 1048576 : 1024 * 1048576;
  const calls = ctx.quick ? 10_000 : 100_000;
  const big = await bigRecording(ctx, bigBytes);
  const log = await longCallLog(ctx, calls);
  // Ten times the records: memory must stay flat (the naive peer would need gigabytes, so it sits this out).
  const huge = await longCallLog(ctx, calls * 10, false);
  const rcHuge = huge[0];
  const rcBig = big.find((r) => r.tool === "rc-recordings");
  const rcLog = log.find((r) => r.tool === "rc-recordings");
  const within = (r: MemoryRun | undefined) =>
    r !== undefined && r.run.code === 0 && r.run.peakRss !== undefined && r.run.peakRss <= RSS_TARGET;
  const bigTitle = `3a. Memory: one ${fmt.mib(bigBytes)} recording`;
  const logTitle = `3b. Memory: ${calls.toLocaleString("en-US")}-record call log, --dry-run (naive: list only)`;
  const hugeTitle = `3c. Memory: ${(calls * 10).toLocaleString("en-US")}-record call log, --dry-run`;
  const flatness =
    rcHuge?.run.peakRss !== undefined && rcLog?.run.peakRss !== undefined
      ? rcHuge.run.peakRss / rcLog.run.peakRss
      : undefined;
  const rows: Row[] = [
    {
      scenario: bigTitle,
      metric: "peak RSS",
      values: per(big, (r) =>
        r.count === 1 ? fmt.mib(r.run.peakRss) : `failed (${fmt.mib(r.run.peakRss)})`,
      ),
      target: "≤ 100 MiB",
      met: within(rcBig) && rcBig?.count === 1,
    },
    { scenario: bigTitle, metric: "wall time", values: per(big, (r) => fmt.s(r.run.wallMs)) },
    {
      scenario: logTitle,
      metric: "peak RSS",
      values: per(log, (r) => fmt.mib(r.run.peakRss)),
      target: "≤ 100 MiB",
      met: within(rcLog),
    },
    {
      scenario: logTitle,
      metric: "wall time (recordings listed)",
      values: per(log, (r) => `${fmt.s(r.run.wallMs)} (${r.count})`),
    },
    {
      scenario: hugeTitle,
      metric: "peak RSS (× the 3b figure)",
      values: per(huge, (r) => `${fmt.mib(r.run.peakRss)} (${fmt.x(flatness ?? Number.NaN)})`),
      target: "≤ 1.15 × 3b",
      met: rcHuge?.run.code === 0 && flatness !== undefined && flatness <= 1.15,
    },
    {
      scenario: hugeTitle,
      metric: "wall time (recordings listed)",
      values: per(huge, (r) => `${fmt.s(r.run.wallMs)} (${r.count})`),
    },
  ];
  return {
    id: "memory",
    title: "3. Memory",
    rows,
    raw: {
      bigRecordingBytes: bigBytes,
      callLogRecords: calls,
      big: raw(big),
      callLog: raw(log),
      hugeCallLog: raw(huge),
    },
  };
}
