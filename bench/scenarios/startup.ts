import type { BenchContext } from "../lib/context.js";
import { startEmulator } from "../lib/emulator-client.js";
import { measure } from "../lib/measure.js";
import { CLI, freshDir, RcProfile } from "../lib/rc.js";
import { fmt, median, type ScenarioResult } from "../lib/report.js";

/** `--version` and `token status` (a stored login, no network) against a bare `node -e 0`, medians of interleaved runs. */
export async function startup(ctx: BenchContext): Promise<ScenarioResult> {
  const repeats = ctx.quick ? 7 : 21;
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
  const title = `5. Start-up (median of ${repeats}, against node -e 0 = ${fmt.ms(node)})`;
  return {
    id: "startup",
    title,
    rows: [
      {
        scenario: title,
        metric: "--version (× node -e 0)",
        values: { "rc-recordings": `${fmt.ms(version)} (${fmt.x(version / node)})` },
        target: "≤ 3 ×",
        met: version / node <= 3,
      },
      {
        scenario: title,
        metric: "token status (× node -e 0)",
        values: { "rc-recordings": `${fmt.ms(status)} (${fmt.x(status / node)})` },
      },
    ],
    raw: { repeats, medianMs: { node, version, status }, samplesMs: times },
  };
}
