import type { Lane, LaneChooser } from "./api/lanes.js";
import type { RateLimitWait } from "./api/rate-limiter.js";
import type { AccessTokenProvider, ApiClient } from "./api/types.js";
import type { Prompter } from "./auth/credentials.js";
import type { AuthServices } from "./auth/services.js";
import type { StoreRequest } from "./auth/store/types.js";
import type { CommandResult } from "./command-result.js";
import type { DestinationOptions } from "./destination/open.js";
import type { Destination } from "./destination/types.js";
import type { LogFormat, Logger } from "./log/logger.js";

/** Options every command accepts, resolved from flags and environment. */
export interface GlobalOptions {
  /** The first `--profile` (the one every command but `download` uses). */
  profile: string;
  /** Every `--profile`, in order (at least one; several only for `download`: a pool of credentials). */
  profiles: string[];
  /**
   * Undefined means "the default": the keychain, falling back to the file store with a warning. An s3:// URL is
   * the shared store of many machines.
   */
  store: StoreRequest | undefined;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
  /** `--log-format` / RC_RECORDINGS_LOG_FORMAT. */
  logFormat: LogFormat;
}

/**
 * How a command obtains the services it runs on (GitHub CLI's Factory). `cli.ts` fills in the real ones
 * (src/factory.ts); a unit test of a command passes fakes. Every method imports what it builds lazily, so a
 * command that never asks for the keychain or the SDK never loads them.
 */
export interface Factory {
  /** The auth services of one profile: `--profile` unless named. */
  auth(profile?: string): Promise<AuthServices>;
  /** An API client over `tokens`, paced by a rate limiter of its own. */
  api(tokens: AccessTokenProvider, onWait?: (wait: RateLimitWait) => void): Promise<ApiClient>;
  /**
   * Where `--out` points: a local folder or `s3://BUCKET[/PREFIX]` (see destination/open.ts). Its requests stop
   * when `signal` aborts (default: the command's, Ctrl-C and SIGTERM).
   */
  destination(
    out: string,
    options?: DestinationOptions & { signal?: AbortSignal | undefined },
  ): Promise<Destination>;
  /**
   * One lane per profile: its session over its stored login and a rate limiter of its own (each user+app pair
   * has its own budget). LoginRequiredError names the first profile without a login.
   */
  lanes(
    profiles: readonly string[],
    onWait?: (profile: string, wait: RateLimitWait) => void,
  ): Promise<Lane[]>;
  /** An API client that sends each request through the lane `lanes` picks. */
  apiOver(lanes: LaneChooser): Promise<ApiClient>;
  /** Someone to ask for a missing secret, or undefined when nobody is at a terminal. */
  prompter(): Promise<Prompter | undefined>;
  /** All of stdin as text (for `--jwt-file -`). */
  readStdin(): Promise<string>;
}

/** What a command receives: resolved global options, the process's I/O and its factory, injectable for tests. */
export interface CommandContext {
  options: GlobalOptions;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: long work stops cleanly and then throws InterruptedError. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** Write one JSON document to stdout (the only thing that ever goes to stdout besides listings). */
  printJson(value: unknown): void;
  /** Write raw text to stdout (redacted), for output streamed in pieces. */
  write(text: string): void;
  /**
   * The result of `download`, `verify`, `report`, `export` and `doctor` (command-result.ts RESULT_COMMANDS): the
   * command reports what it found; cli.ts adds exit code, times, profile and out, and prints it (with `--json`)
   * exactly once, whatever ends the run.
   */
  result: CommandResult;
  /** Write human-readable lines to stdout (used only for results a user asked for, e.g. `token status`). */
  print(text: string): void;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  factory: Factory;
}
