import type { BenchContext } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import { measure } from "../lib/measure.js";
import { CLI, freshDir, RcProfile } from "../lib/rc.js";
import { fmt, median, type ScenarioResult } from "../lib/report.js";

/**
 * `--version` and `token status` (a stored login, no network) against a bare `node -e 0`. Each round runs the
 * three back to back and yields two ratios; the result is the median ratio over the rounds, so a burst of load
 * from a neighbour slows one round's three runs alike instead of skewing one command's median.
 */
export async function startup(ctx: BenchContext): Promise<ScenarioResult> {
  const repeats = ctx.quick ? 11 : 31;
  const emulator = await startEmulator({ calls: 1, rateLimits: false });
  const times = { node: [] as number[], version: [] as number[], status: [] as number[] };
  try {
    const profile = new RcProfile(emulator, freshDir(ctx.dir, "rc-config"));
    await profile.login();
    ctx.log(`  ${repeats} × (node -e 0, --version, token status)…`);
    for (let i = 0; i < repeats; i++) {
      // Interleaved, so a noisy neighbour slows all three alike.
      times.node.push((await measure(process.execPath, ["-e", "0"])).wallMs);
      const version = await measure(process.execPath, [CLI, "--version"], { env: profile.env });
      if (version.code !== 0) throw new Error(`--version exited ${version.code}`);
      times.version.push(version.wallMs);
      const status = await profile.run(["token", "status"]);
      if (status.code !== 0) throw new Error(`token status exited ${status.code}: ${status.stderr.trim()}`);
      times.status.push(status.wallMs);
    }
  } finally {
    await emulator.stop();
  }
  const node = median(times.node);
  const version = median(times.version);
  const status = median(times.status);
  const ratio = (of: number[]) => median(of.map((ms, i) => ms / (times.node[i] ?? Number.NaN)));
  const versionRatio = ratio(times.version);
  const statusRatio = ratio(times.status);
  const title = `5. Start-up (${repeats} rounds; node -e 0 median ${fmt.ms(node)})`;
  return {
    id: "startup",
    title,
    rows: [
      {
        scenario: title,
        metric: "--version (× node -e 0)",
        values: { "rc-recordings": `${fmt.ms(version)} (${fmt.x(versionRatio)})` },
        target: "≤ 3 ×",
        met: versionRatio <= 3,
      },
      {
        scenario: title,
        metric: "token status (× node -e 0)",
        values: { "rc-recordings": `${fmt.ms(status)} (${fmt.x(statusRatio)})` },
      },
    ],
    raw: {
      repeats,
      medianMs: { node, version, status },
      medianRatio: { versionRatio, statusRatio },
      samplesMs: times,
    },
  };
}
