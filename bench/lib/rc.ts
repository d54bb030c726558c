import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DownloadSummary } from "../../src/run/stats.js";
import type { StartedEmulator } from "./emulator-protocol.js";
import { lastJsonLine, type Measured, measure } from "./measure.js";

/** The built CLI, run exactly as users run it. */
export const CLI = resolve(fileURLToPath(new URL("../../bin/rc-recordings.js", import.meta.url)));

export interface RcRun extends Measured {
  summary: DownloadSummary | undefined;
}

export interface DownloadArgs {
  out: string;
  from: string;
  concurrency?: number;
  dryRun?: boolean;
  maxRssPreload?: string;
  /** Added to the profile's environment (AWS_* for an s3:// --out). */
  env?: NodeJS.ProcessEnv;
}

/** One profile of rc-recordings: a private XDG_CONFIG_HOME, the file store, the emulator's credentials. */
export class RcProfile {
  readonly env: NodeJS.ProcessEnv;

  constructor(emulator: StartedEmulator, configHome: string) {
    mkdirSync(configHome, { recursive: true });
    this.env = {
      XDG_CONFIG_HOME: configHome,
      RC_RECORDINGS_STORE: "file",
      RC_SERVER_URL: emulator.server,
      RC_APP_CLIENT_ID: emulator.credentials.clientId,
      RC_APP_CLIENT_SECRET: emulator.credentials.clientSecret,
      RC_USER_JWT: emulator.credentials.jwt,
    };
  }

  run(args: readonly string[], maxRssPreload?: string, env?: NodeJS.ProcessEnv): Promise<Measured> {
    return measure(process.execPath, [CLI, ...args], { env: { ...this.env, ...env }, maxRssPreload });
  }

  async login(): Promise<void> {
    const result = await this.run(["login"]);
    if (result.code !== 0)
      throw new Error(`rc-recordings login failed (${result.code}): ${result.stderr.trim()}`);
  }

  async download(args: DownloadArgs): Promise<RcRun> {
    const argv = ["--json", "download", "--out", args.out, "--from", args.from];
    if (args.concurrency !== undefined) argv.push("--concurrency", String(args.concurrency));
    if (args.dryRun) argv.push("--dry-run");
    const result = await this.run(argv, args.maxRssPreload, args.env);
    return { ...result, summary: lastJsonLine<DownloadSummary>(result.stdout) };
  }
}

/** A fresh folder under the run's work directory. */
export function freshDir(parent: string, name: string): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
