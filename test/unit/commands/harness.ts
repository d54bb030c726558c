/**
 * Runs the CLI in-process (src/cli.ts `runCli`) with fakes behind its Factory: no child process, no keychain,
 * no SDK. The token source is a fixed token from the emulator; the API client and rate limiter are the real
 * ones, so JSON shapes, exit codes and log lines are those a user sees.
 */
import type { AccessTokenProvider, ApiClient } from "../../../src/api/types.js";
import type { AuthServices } from "../../../src/auth/services.js";
import { locateStore } from "../../../src/auth/store/select.js";
import { type CliIo, runCli } from "../../../src/cli.js";
import type { Factory } from "../../../src/context.js";
import type { ExitCode } from "../../../src/errors.js";
import { FakeEndpoint, MemoryLock, MemoryStore, MemoryVault } from "../auth/fakes.js";

export interface Run {
  code: ExitCode;
  stdout: string;
  /** stderr, one entry per line. */
  stderr: string[];
  /** What the command asked its factory for, in order. */
  asked: string[];
}

export interface FakeServices {
  store?: MemoryStore;
  endpoint?: FakeEndpoint;
  /** The session the download and --verify calls use. */
  tokens?: AccessTokenProvider;
  /** A pool's profiles by name (a profile not named here uses `tokens`). */
  profileTokens?: Record<string, AccessTokenProvider>;
  /** Replaces the real API client (for failures that are hard to provoke on a server). */
  api?: ApiClient;
  configDir?: string;
  /** The environment the destination sees (AWS_* for an s3:// --out). */
  env?: NodeJS.ProcessEnv;
}

/**
 * A token source that never changes its token: enough for commands whose session behaviour is tested elsewhere.
 * `recover` claims success, so a token the server rejects stays rejected (what a dead login looks like).
 */
export function fixedToken(server: string, token: string): AccessTokenProvider & { recoveries: number } {
  const provider = {
    server,
    recoveries: 0,
    getAccessToken: async () => token,
    recover: async () => {
      provider.recoveries += 1;
    },
  };
  return provider;
}

export async function run(
  argv: readonly string[],
  fakes: FakeServices = {},
  io: Partial<CliIo> = {},
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const asked: string[] = [];
  const store = fakes.store ?? new MemoryStore(undefined);
  const endpoint = fakes.endpoint ?? new FakeEndpoint(Date.now);
  const vault = new MemoryVault();
  const sessionOf = (profile: string): AccessTokenProvider => {
    const tokens = fakes.profileTokens?.[profile] ?? fakes.tokens;
    if (!tokens) throw new Error("no session in this test");
    return tokens;
  };
  const factory = (): Factory => ({
    async auth(profile = "default") {
      asked.push(`auth:${profile}`);
      const services: AuthServices = {
        profile,
        requestedStore: "file",
        location: { dir: fakes.configDir ?? "/nonexistent-test-config", vault },
        lock: new MemoryLock(),
        endpoint,
        // With a real config folder the real store lookup runs (login writes a real file store there).
        locate: async () =>
          fakes.configDir
            ? locateStore(profile, { dir: fakes.configDir, vault })
            : store.record === undefined
              ? undefined
              : store,
      };
      return services;
    },
    async api(tokens, onWait) {
      asked.push("api");
      if (fakes.api) return fakes.api;
      const [{ createApiClient }, { RateLimiter }, { Logger }] = await Promise.all([
        import("../../../src/api/client.js"),
        import("../../../src/api/rate-limiter.js"),
        import("../../../src/log/logger.js"),
      ]);
      const limiter = new RateLimiter(onWait ? { onWait } : {});
      return createApiClient({ tokens, limiter, log: new Logger("quiet", { write: () => true }) });
    },
    async destination(out) {
      asked.push("destination");
      const { openDestination } = await import("../../../src/destination/open.js");
      return openDestination(out, { ...fakes.env });
    },
    async lanes(profiles, onWait) {
      asked.push(`lanes:${profiles.join(",")}`);
      const { RateLimiter } = await import("../../../src/api/rate-limiter.js");
      return profiles.map((name) => ({
        name,
        tokens: sessionOf(name),
        limiter: new RateLimiter(onWait ? { onWait: (wait) => onWait(name, wait) } : {}),
      }));
    },
    async apiOver(lanes) {
      asked.push("apiOver");
      if (fakes.api) return fakes.api;
      const [{ createApiClient }, { Logger }] = await Promise.all([
        import("../../../src/api/client.js"),
        import("../../../src/log/logger.js"),
      ]);
      return createApiClient({ lanes, log: new Logger("quiet", { write: () => true }) });
    },
    prompter: async () => undefined,
    readStdin: async () => "",
  });
  const code = await runCli(["node", "rc-recordings", ...argv], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    stdinIsTTY: false,
    stderrIsTTY: false,
    signal: new AbortController().signal,
    factory,
    ...io,
  });
  return { code, stdout, stderr: stderr.split("\n").filter((line) => line !== ""), asked };
}
