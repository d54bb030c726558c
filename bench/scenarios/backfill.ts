import type { BenchContext } from "../lib/context.js";
import { callsForRecordings } from "../lib/dataset.js";
import { type BenchEmulator, startEmulator } from "../lib/emulator-client.js";
import type { TimelineEntry } from "../lib/emulator-protocol.js";
import { type Measured, tail } from "../lib/measure.js";
import { runSdkPeer } from "../lib/peer.js";
import { CLI, freshDir, RcProfile } from "../lib/rc.js";
import { fmt, type Row, type ScenarioResult } from "../lib/report.js";

const DAY_MS = 86_400_000;
const HEAVY_LIMIT = 10;
/** Users of the one emulated account, one per profile of the pool. */
const POOL_USERS = [
  { jwt: "eyJiZW5jaC1vcHMyIn0.eyJzdWIiOiJvcHMyIn0.c2ln", ownerId: "62264425022" },
  { jwt: "eyJiZW5jaC1vcHMzIn0.eyJzdWIiOiJvcHMzIn0.c2ln", ownerId: "62264425033" },
];
const CONTENT = /\/recording\/([^/]+)\/content$/;
/**
 * Retention starts this long after the tool: its start-up (login check, first page) takes about a second, which
 * compressed time would turn into days of deletions no tool could prevent.
 */
const STARTUP_ALLOWANCE_MS = 1500;

interface BackfillRun {
  label: "naive" | "concurrent" | "rc ×1" | "rc ×3";
  run: Measured;
  recordings: number;
  saved: number;
  /** Deleted by retention before the tool had saved them. */
  lost: number;
  rejected429: number;
}

/**
 * Retention deletes the oldest recording every `everyMs` from the moment the tool starts; how many does the tool
 * lose? Recordings saved = content bodies the emulator served completely (status 200/206 in its timeline).
 */
async function measureTool(
  label: BackfillRun["label"],
  emulator: BenchEmulator,
  everyMs: number,
  start: () => Promise<Measured>,
): Promise<BackfillRun> {
  const all = await emulator.recordings();
  await emulator.timeline(); // drop the logins' traffic
  await emulator.control({ action: "startRetention", everyMs, afterMs: STARTUP_ALLOWANCE_MS });
  const run = await start();
  const timeline: TimelineEntry[] = await emulator.timeline();
  const saved = new Set(
    timeline
      .filter((e) => (e.status === 200 || e.status === 206) && CONTENT.test(e.path))
      .map((e) => CONTENT.exec(e.path)?.[1] ?? ""),
  );
  const after = await emulator.recordings();
  const lost = after.filter((r) => r.deleted && !saved.has(r.id)).length;
  return {
    label,
    run,
    recordings: all.length,
    saved: saved.size,
    lost,
    rejected429: timeline.filter((e) => e.status === 429).length,
  };
}

export async function backfill(ctx: BenchContext): Promise<ScenarioResult> {
  const recordings = ctx.quick ? 90 : 300;
  const windowSec = ctx.quick ? 1 : 2;
  const perProfilePerSec = HEAVY_LIMIT / windowSec;
  // Retention deletes at 60 % of what one profile may fetch: the budget outruns deletion.
  const everyMs = Math.round(1000 / (perProfilePerSec * 0.6));
  const options = {
    calls: callsForRecordings(recordings),
    withRecordingRatio: 1,
    spanMs: 89 * DAY_MS,
    rateLimits: { windowSec, penaltySec: windowSec, limits: { heavy: HEAVY_LIMIT } },
    users: POOL_USERS,
  };
  const from = new Date(Date.now() - 90 * DAY_MS).toISOString();
  const runs: BackfillRun[] = [];

  const fresh = async <T>(body: (emulator: BenchEmulator) => Promise<T>): Promise<T> => {
    const emulator = await startEmulator(options);
    try {
      return await body(emulator);
    } finally {
      await emulator.stop();
    }
  };

  // The peers work newest first, as the call log answers; `concurrent` waits out 429s and so keeps going.
  for (const peer of ["naive", "concurrent"] as const) {
    ctx.log(`  ${peer} (newest first)…`);
    runs.push(
      await fresh((emulator) =>
        measureTool(peer, emulator, everyMs, () =>
          runSdkPeer(ctx.scripts[peer], emulator, { out: freshDir(ctx.dir, `out-${peer}`), from }),
        ),
      ),
    );
  }
  for (const profiles of [1, 3] as const) {
    ctx.log(`  rc-recordings, ${profiles} profile(s)…`);
    runs.push(
      await fresh(async (emulator) => {
        const rc = new RcProfile(emulator, freshDir(ctx.dir, `rc-config-${profiles}`));
        await rc.login();
        const names = ["default", "ops2", "ops3"].slice(0, profiles);
        for (const [i, user] of POOL_USERS.slice(0, profiles - 1).entries()) {
          const login = await rc.run(["--profile", names[i + 1] as string, "login"], undefined, {
            RC_USER_JWT: user.jwt,
          });
          if (login.code !== 0) throw new Error(`login ${names[i + 1]} failed: ${login.stderr}`);
        }
        const out = freshDir(ctx.dir, `out-rc-${profiles}`);
        const argv = [...names.flatMap((n) => ["--profile", n]), "--json", "download", "--out", out];
        return measureTool(profiles === 1 ? "rc ×1" : "rc ×3", emulator, everyMs, () =>
          rc.run([...argv, "--from", from]),
        );
      }),
    );
  }

  const [naive, concurrent, one, three] = runs as [BackfillRun, BackfillRun, BackfillRun, BackfillRun];
  const peers = (f: (r: BackfillRun) => string) => ({ naive: f(naive), concurrent: f(concurrent) });
  const speedup = one.run.wallMs / three.run.wallMs;
  // Heavy limit, window and retention pace are in `raw` and in the README's method.
  const title = `8. Backfill vs retention: ${recordings} recordings over 89 days`;
  const both = (f: (r: BackfillRun) => string) => `${f(one)} / ${f(three)}`;
  const rows: Row[] = [
    {
      scenario: title,
      metric: "recordings lost to retention (rc: 1 / 3 profiles)",
      values: { "rc-recordings": both((r) => String(r.lost)), ...peers((r) => String(r.lost)) },
      target: "0",
      met: one.lost === 0 && three.lost === 0,
    },
    {
      scenario: title,
      metric: "recordings saved (rc: 1 / 3 profiles)",
      values: {
        "rc-recordings": both((r) => `${r.saved}/${r.recordings}`),
        ...peers((r) => `${r.saved}/${r.recordings}${r.run.code === 0 ? "" : " (failures)"}`),
      },
    },
    {
      scenario: title,
      metric: "wall time (rc: 1 / 3 profiles)",
      values: { "rc-recordings": both((r) => fmt.s(r.run.wallMs)), ...peers((r) => fmt.s(r.run.wallMs)) },
    },
    {
      scenario: title,
      metric: "throughput, 3 profiles ÷ 1 profile",
      values: { "rc-recordings": fmt.x(speedup) },
      target: "≥ 2.8 ×",
      met: speedup >= 2.8,
    },
    {
      scenario: title,
      metric: "429 responses (rc: 1 / 3 profiles)",
      values: { "rc-recordings": both((r) => String(r.rejected429)), ...peers((r) => String(r.rejected429)) },
      target: "0",
      met: one.rejected429 === 0 && three.rejected429 === 0,
    },
  ];
  return {
    id: "backfill",
    title: "8. Backfill against retention",
    rows,
    raw: {
      recordings,
      windowSec,
      heavyLimit: HEAVY_LIMIT,
      retentionEveryMs: everyMs,
      cli: CLI,
      runs: runs.map((r) => ({
        label: r.label,
        code: r.run.code,
        wallMs: r.run.wallMs,
        saved: r.saved,
        lost: r.lost,
        rejected429: r.rejected429,
        stderrTail: tail(r.run.stderr),
      })),
    },
  };
}
