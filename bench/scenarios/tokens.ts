import { type BenchContext, twoDaysAgo } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import type { StartedEmulator, StatsSnapshot } from "../lib/emulator-protocol.js";
import { type Measured, tail } from "../lib/measure.js";
import { harnessLogin, sessionSurvives } from "../lib/oauth.js";
import { runSdkPeer } from "../lib/peer.js";
import { freshDir, RcProfile } from "../lib/rc.js";
import type { Row, ScenarioResult } from "../lib/report.js";

const PARALLEL = 6;

interface TokenEconomy {
  tool: "rc-recordings" | "naive";
  /** JWT logins by the tool (the harness's own "other client" login excluded). */
  jwtLogins: number;
  refreshes: number;
  graceRefreshes: number;
  failedRefreshes: number;
  /** Runs that did not exit 0, of `runs + PARALLEL`. */
  failedRuns: number;
  otherSessionSurvives: boolean;
  stats: StatsSnapshot;
  failures: string[];
}

type RunOnce = (out: string) => Promise<Measured>;

/**
 * Another client of the same app and user (a dashboard, a second script) holds a session; then the tool runs
 * `runs` times in a row like a cron job, then the access token expires and PARALLEL runs start at once.
 */
async function economy(
  ctx: BenchContext,
  tool: TokenEconomy["tool"],
  runs: number,
  prepare: (emulator: StartedEmulator) => Promise<RunOnce>,
): Promise<TokenEconomy> {
  // Rate limits off: 20 runs "in a row" stand for 20 cron slots hours apart, not a burst against the Auth group.
  const emulator = await startEmulator({ calls: 6, withRecordingRatio: 1, rateLimits: false });
  try {
    const otherClient = await harnessLogin(emulator);
    const runOnce = await prepare(emulator);
    const results: Measured[] = [];
    ctx.log(`  ${tool}: ${runs} runs in a row, then ${PARALLEL} at once on an expired token…`);
    for (let i = 0; i < runs; i++) results.push(await runOnce(freshDir(ctx.dir, `${tool}-cron`)));
    await emulator.control({ action: "expireAccessTokens" });
    const parallel = Array.from({ length: PARALLEL }, (_, i) =>
      runOnce(freshDir(ctx.dir, `${tool}-parallel-${i}`)),
    );
    results.push(...(await Promise.all(parallel)));
    // Stats first: the survival check below is itself a refresh.
    const stats = await emulator.stats();
    const failed = results.filter((r) => r.code !== 0);
    return {
      tool,
      jwtLogins: stats.jwtLogins - 1,
      refreshes: stats.refreshes,
      graceRefreshes: stats.graceRefreshes,
      failedRefreshes: stats.failedRefreshes,
      failedRuns: failed.length,
      otherSessionSurvives: await sessionSurvives(emulator, otherClient),
      stats,
      failures: failed.slice(0, 3).map((r) => tail(r.stderr, 2)),
    };
  } finally {
    await emulator.stop();
  }
}

export async function tokens(ctx: BenchContext): Promise<ScenarioResult> {
  const runs = ctx.quick ? 10 : 20;
  const from = twoDaysAgo();
  const rc = await economy(ctx, "rc-recordings", runs, async (emulator) => {
    const profile = new RcProfile(emulator, freshDir(ctx.dir, "rc-config"));
    await profile.login();
    return (out) => profile.download({ out, from });
  });
  const naive = await economy(
    ctx,
    "naive",
    runs,
    async (emulator) => (out) => runSdkPeer(ctx.scripts.naive, emulator, { out, from }),
  );
  const both = [rc, naive];
  const per = (f: (e: TokenEconomy) => string) => Object.fromEntries(both.map((e) => [e.tool, f(e)]));
  const title = `4. Token economy: ${runs} runs in a row, then ${PARALLEL} at once on an expired token`;
  const rows: Row[] = [
    {
      scenario: title,
      metric: "JWT logins",
      values: per((e) => String(e.jwtLogins)),
      target: "1",
      met: rc.jwtLogins === 1,
    },
    {
      scenario: title,
      metric: "token refreshes (grace replays)",
      values: per((e) => `${e.refreshes} (${e.graceRefreshes})`),
    },
    {
      scenario: title,
      metric: "another client's session (5-session cap)",
      values: per((e) => (e.otherSessionSurvives ? "survives" : "evicted")),
      target: "survives",
      met: rc.otherSessionSurvives,
    },
    {
      scenario: title,
      metric: "failed runs",
      values: per((e) => `${e.failedRuns}/${runs + PARALLEL}`),
      target: "0",
      met: rc.failedRuns === 0,
    },
  ];
  return { id: "tokens", title, rows, raw: { runs, parallel: PARALLEL, economies: both } };
}
