import { type S3Server, startS3Server } from "../../test/helpers/s3-server.js";
import { type BenchContext, twoDaysAgo } from "../lib/context.js";
import { callsForRecordings } from "../lib/dataset.js";
import { startEmulator } from "../lib/emulator-client.js";
import { tail } from "../lib/measure.js";
import { freshDir, RcProfile, type RcRun } from "../lib/rc.js";
import { fmt, type ScenarioResult } from "../lib/report.js";

const RSS_TARGET = 100 * 1048576;
const PARALLEL = 4;

/**
 * Issue 12: archiving into an S3-compatible bucket (a real s3rver process on this machine, its own process
 * like the emulator). (a) one big recording streamed into a multipart upload: peak RSS; (b) 40 × 4 MB into
 * the bucket and into a folder in the same run: throughput ratio.
 */
export async function s3(ctx: BenchContext): Promise<ScenarioResult> {
  const bigBytes = (ctx.quick ? 128 : 1024) * 1048576;
  const recordings = ctx.quick ? 12 : 40;
  const size = 4_000_000;
  const bandwidth = 4_000_000;
  let server: S3Server | undefined;
  const runs: Record<string, RcRun> = {};
  try {
    server = await startS3Server(["archive"]);
    const from = twoDaysAgo();

    const big = await startEmulator({
      calls: 1,
      withRecordingRatio: 1,
      recordingBytes: bigBytes,
      rateLimits: false,
    });
    try {
      const rc = new RcProfile(big, freshDir(ctx.dir, "rc-config-big"));
      await rc.login();
      ctx.log(`  rc-recordings, one ${bigBytes / 1048576} MiB recording into S3…`);
      runs.big = await rc.download({
        out: "s3://archive/big",
        from,
        maxRssPreload: ctx.scripts.maxrss,
        env: server.env,
      });
    } finally {
      await big.stop();
    }

    const many = await startEmulator({
      calls: callsForRecordings(recordings),
      withRecordingRatio: 1,
      recordingBytes: size,
      rateLimits: false,
      faults: { bandwidth },
    });
    try {
      const rc = new RcProfile(many, freshDir(ctx.dir, "rc-config-many"));
      await rc.login();
      ctx.log(`  rc-recordings, ${recordings} × 4 MB into a folder…`);
      runs.folder = await rc.download({ out: freshDir(ctx.dir, "out-folder"), from, concurrency: PARALLEL });
      ctx.log(`  rc-recordings, ${recordings} × 4 MB into S3…`);
      runs.bucket = await rc.download({
        out: "s3://archive/many",
        from,
        concurrency: PARALLEL,
        env: server.env,
      });
    } finally {
      await many.stop();
    }
  } finally {
    await server?.stop();
  }

  const saved = (run: RcRun | undefined, wanted: number) =>
    run?.code === 0 && run.summary?.downloaded === wanted;
  const throughput = (run: RcRun | undefined) =>
    run && saved(run, recordings) ? (run.summary?.bytes ?? 0) / (run.wallMs / 1000) : 0;
  const ratio = throughput(runs.folder) > 0 ? throughput(runs.bucket) / throughput(runs.folder) : 0;
  const bigOk = saved(runs.big, 1);
  const peak = runs.big?.peakRss ?? 0;
  const titleBig = `7a. S3: one ${bigBytes / 1048576} MiB recording into a bucket (s3rver)`;
  const titleMany = `7b. S3: ${recordings} × 4 MB, ${fmt.mbps(bandwidth)} per connection, ${PARALLEL} in parallel`;
  return {
    id: "s3",
    title: "S3",
    rows: [
      {
        scenario: titleBig,
        metric: "peak RSS",
        values: { "rc-recordings": bigOk ? fmt.mib(peak) : `failed (${runs.big?.code})` },
        target: "≤ 100 MiB",
        met: bigOk && peak <= RSS_TARGET,
      },
      { scenario: titleBig, metric: "wall time", values: { "rc-recordings": fmt.s(runs.big?.wallMs ?? 0) } },
      {
        scenario: titleMany,
        metric: "throughput into S3 (× into a folder)",
        values: {
          "rc-recordings": saved(runs.bucket, recordings)
            ? `${fmt.mbps(throughput(runs.bucket))} (${fmt.x(ratio)})`
            : `failed (${runs.bucket?.summary?.downloaded ?? 0}/${recordings})`,
        },
        target: "≥ 0.9 × folder",
        met: ratio >= 0.9,
      },
      {
        scenario: titleMany,
        metric: "throughput into a folder",
        values: { "rc-recordings": fmt.mbps(throughput(runs.folder)) },
      },
    ],
    raw: {
      bigBytes,
      recordings,
      bytesEach: size,
      bandwidthPerConnection: bandwidth,
      parallel: PARALLEL,
      bucketToFolderThroughput: ratio,
      runs: Object.entries(runs).map(([name, run]) => ({
        name,
        wallMs: run.wallMs,
        peakRss: run.peakRss,
        code: run.code,
        summary: run.summary,
        stderrTail: tail(run.stderr),
      })),
    },
  };
}
