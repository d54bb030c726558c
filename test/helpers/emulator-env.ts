import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Emulator, type EmulatorOptions, start } from "../emulator/index.js";
import { type CliOptions, type CliResult, runCli, tempDir } from "./cli.js";

export interface EmulatorEnv {
  emu: Emulator;
  /** The throw-away folder of this test: `config/` (XDG_CONFIG_HOME) and room for downloads. */
  dir: string;
  /** The profiles folder the CLI writes to (`<XDG_CONFIG_HOME>/rc-recordings/profiles`). */
  profilesDir: string;
  /** Environment for the CLI: its own XDG_CONFIG_HOME, the emulator's server and demo credentials. */
  env: NodeJS.ProcessEnv;
  /** Run the built CLI with `env` (plus `extraEnv`). */
  run(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** `login` and fail loudly if it does not succeed. */
  login(args?: readonly string[]): Promise<CliResult>;
  stop(): Promise<void>;
}

export interface EmulatorEnvOptions {
  emulator?: EmulatorOptions;
  /** Store backend for the CLI (RC_RECORDINGS_STORE). Default "file"; "default" leaves it unset. */
  store?: "file" | "keychain" | "default";
  /** Give the CLI the credentials through the environment (default true). */
  credentialsInEnv?: boolean;
  /**
   * Run as an AT&T Office@Hand / Verizon account would: the emulator serves HTTPS (throw-away CA) as
   * https://platform.ringcentral.biz:<port> with media on media.ringcentral.biz (and a CDN on a foreign name);
   * the CLI child resolves those names to loopback (loopback-dns.cjs) and trusts the CA via NODE_EXTRA_CA_CERTS.
   */
  segregated?: boolean;
}

export const BIZ_HOSTS = {
  api: "platform.ringcentral.biz",
  media: "media.ringcentral.biz",
  cdn: "recordings.cdn-example.net",
} as const;

const LOOPBACK_DNS = join(dirname(fileURLToPath(import.meta.url)), "loopback-dns.cjs");

/** Environment for a CLI child that reaches the emulator under `BIZ_HOSTS` and trusts `caFile`. */
export function segregatedEnv(caFile: string): NodeJS.ProcessEnv {
  return {
    NODE_OPTIONS: `--require ${LOOPBACK_DNS}`,
    RC_TEST_LOOPBACK_HOSTS: Object.values(BIZ_HOSTS).join(","),
    NODE_EXTRA_CA_CERTS: caFile,
  };
}

/**
 * Start an in-process emulator and a private config directory for one test. Every test gets its own
 * XDG_CONFIG_HOME so profiles never leak between tests (or into the developer's own config).
 */
export async function startEmulatorEnv(options: EmulatorEnvOptions = {}): Promise<EmulatorEnv> {
  const emu = await start({
    rateLimits: false,
    ...(options.segregated && {
      tls: true,
      apiHostName: BIZ_HOSTS.api,
      mediaHostName: BIZ_HOSTS.media,
      cdnHostName: BIZ_HOSTS.cdn,
    }),
    ...options.emulator,
  });
  const folder = tempDir("rcr-e2e-");
  const configHome = join(folder.path, "config");
  mkdirSync(configHome, { recursive: true });
  const env: NodeJS.ProcessEnv = { XDG_CONFIG_HOME: configHome };
  const store = options.store ?? "file";
  if (store !== "default") env.RC_RECORDINGS_STORE = store;
  if (options.segregated && emu.caFile) Object.assign(env, segregatedEnv(emu.caFile));
  if (options.credentialsInEnv ?? true) {
    Object.assign(env, {
      RC_SERVER_URL: emu.server,
      RC_APP_CLIENT_ID: emu.credentials.clientId,
      RC_APP_CLIENT_SECRET: emu.credentials.clientSecret,
      RC_USER_JWT: emu.credentials.jwt,
    });
  }
  const run = (args: readonly string[], cli: CliOptions = {}) =>
    runCli(args, { ...cli, env: { ...env, ...cli.env } });
  return {
    emu,
    dir: folder.path,
    profilesDir: join(configHome, "rc-recordings", "profiles"),
    env,
    run,
    async login(args = []) {
      const result = await run(["login", ...args]);
      if (result.code !== 0) throw new Error(`login failed (${result.code}): ${result.stderr}`);
      return result;
    },
    async stop() {
      await emu.stop();
      folder.cleanup();
    },
  };
}
