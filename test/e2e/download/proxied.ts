import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { EmulatorOptions } from "../../emulator/index.js";
import { type CliOptions, spawnCli, tempDir } from "../../helpers/cli.js";
import { startEmulatorEnv } from "../../helpers/emulator-env.js";
import { startTamperProxy, type Tamper, type TamperProxy } from "../../helpers/tamper-proxy.js";
import type { DownloadEnv } from "./helpers.js";

export interface ProxiedDownloadEnv extends DownloadEnv {
  proxy: TamperProxy;
}

/**
 * Like `setupDownload`, but the CLI talks to the emulator through a tamper proxy (login included), so a test can
 * make any answer misbehave.
 */
export async function setupProxiedDownload(
  emulator: EmulatorOptions = {},
  tamper?: Tamper,
): Promise<ProxiedDownloadEnv> {
  const base = await startEmulatorEnv({ emulator: { calls: 12, ...emulator } });
  const proxy = await startTamperProxy(base.emu, tamper);
  const env = { ...base.env, RC_SERVER_URL: proxy.origin };
  const out = join(base.dir, "out");
  const run: DownloadEnv["run"] = (args, options: CliOptions = {}) =>
    base.run(args, { ...options, env: { ...env, ...options.env } });
  const login = await run(["login"]);
  if (login.code !== 0) throw new Error(`login failed (${login.code}): ${login.stderr}`);
  base.emu.control.resetStats();
  return {
    ...base,
    env,
    run,
    proxy,
    out,
    download: (args = [], options = {}) => run(["download", "--out", out, ...args], options),
    spawnDownload: (args = []) => spawnCli(["download", "--out", out, ...args], { env }),
    async stop() {
      await proxy.stop();
      await base.stop();
    },
  };
}

/** A folder outside DIR for planted links to point at; removed when the test ends. */
export function outsideDir(): { path: string } {
  const dir = tempDir("rcr-outside-");
  onTestFinished(dir.cleanup);
  return dir;
}
