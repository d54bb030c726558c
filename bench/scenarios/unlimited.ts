import { type BenchContext, twoDaysAgo } from "../lib/context.js";
import { callsForRecordings } from "../lib/dataset.js";
import { startEmulator } from "../lib/emulator-client.js";
import { type Measured, tail } from "../lib/measure.js";
import { harnessLogin } from "../lib/oauth.js";
import { runSdkPeer } from "../lib/peer.js";
import { freshDir, RcProfile } from "../lib/rc.js";
import { fmt, type ScenarioResult, type Tool } from "../lib/report.js";
import { CURL, runCurl } from "../peers/curl.js";

const PARALLEL = 4;

interface ToolRun {
  tool: Tool;
  run: Measured;
  bytes: number;
  saved: number;
}

export async function unlimited(ctx: BenchContext): Promise<ScenarioResult> {
  const recordings = ctx.quick ? 12 : 40;
  const size = 4_000_000;
  /** Per response, like one TCP connection to a distant media server. */
  const bandwidth = 4_000_000;
  const emulator = await startEmulator({
    calls: callsForRecordings(recordings),
    withRecordingRatio: 1,
    recordingBytes: size,
    rateLimits: false,
    faults: { bandwidth },
  });
  const runs: ToolRun[] = [];
  try {
    const list = await emulator.recordings();
    if (list.length !== recordings)
      throw new Error(`dataset has ${list.length} recordings, wanted ${recordings}`);
    const from = twoDaysAgo();
    const rc = new RcProfile(emulator, freshDir(ctx.dir, "rc-config"));
    await rc.login();
    const { accessToken } = await harnessLogin(emulator);

    ctx.log(`  curl ×${PARALLEL}…`);
    const curl = await runCurl({
      urls: list,
      accessToken,
      outDir: freshDir(ctx.dir, "out-curl"),
      parallel: PARALLEL,
      workDir: ctx.dir,
    });
    const curlSaved = curl.code === 0 ? recordings : 0;
    runs.push({ tool: "curl", run: curl, bytes: curlSaved * size, saved: curlSaved });

    ctx.log("  rc-recordings…");
    const rcRun = await rc.download({ out: freshDir(ctx.dir, "out-rc"), from, concurrency: PARALLEL });
    runs.push({
      tool: "rc-recordings",
      run: rcRun,
      bytes: rcRun.summary?.bytes ?? 0,
      saved: rcRun.summary?.downloaded ?? 0,
    });

    ctx.log("  naive…");
    const naive = await runSdkPeer(ctx.scripts.naive, emulator, {
      out: freshDir(ctx.dir, "out-naive"),
      from,
    });
    runs.push({
      tool: "naive",
      run: naive,
      bytes: naive.result?.bytes ?? 0,
      saved: naive.result?.downloaded ?? 0,
    });
  } finally {
    await emulator.stop();
  }

  const throughput = (r: ToolRun) => (r.saved === recordings ? r.bytes / (r.run.wallMs / 1000) : 0);
  const curlRun = runs.find((r) => r.tool === "curl");
  const rcRun = runs.find((r) => r.tool === "rc-recordings");
  const ratio = curlRun && rcRun && throughput(curlRun) > 0 ? throughput(rcRun) / throughput(curlRun) : 0;
  const per = (f: (r: ToolRun) => string) => Object.fromEntries(runs.map((r) => [r.tool, f(r)]));
  const title = `2. Unlimited: ${recordings} × 4 MB, ${fmt.mbps(bandwidth)} per connection, ${PARALLEL} in parallel (naive: 1)`;
  return {
    id: "unlimited",
    title,
    rows: [
      {
        scenario: title,
        metric: "throughput, whole run (× curl)",
        values: per((r) =>
          r.saved === recordings
            ? `${fmt.mbps(throughput(r))} (${fmt.x(curlRun ? throughput(r) / throughput(curlRun) : 0)})`
            : `failed (${r.saved}/${recordings})`,
        ),
        target: "≥ 0.9 × curl",
        met: ratio >= 0.9,
      },
      { scenario: title, metric: "wall time", values: per((r) => fmt.s(r.run.wallMs)) },
    ],
    raw: {
      recordings,
      bytesEach: size,
      bandwidthPerConnection: bandwidth,
      parallel: PARALLEL,
      curl: CURL,
      rcToCurlThroughput: ratio,
      runs: runs.map((r) => ({
        tool: r.tool,
        wallMs: r.run.wallMs,
        code: r.run.code,
        bytes: r.bytes,
        saved: r.saved,
        throughput: throughput(r),
        stderrTail: tail(r.run.stderr),
      })),
    },
  };
}
