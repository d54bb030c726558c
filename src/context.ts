import type { Logger } from "./ui/logger.js";

export type StoreKind = "keychain" | "file";

/** Options every command accepts, resolved from flags and environment. */
export interface GlobalOptions {
  profile: string;
  /** Undefined means "the default": the keychain, falling back to the file store with a warning. */
  store: StoreKind | undefined;
  json: boolean;
  verbose: boolean;
  quiet: boolean;
}

/** What a command receives: resolved global options and the process's I/O, injectable for tests. */
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
  /** Write human-readable lines to stdout (used only for results a user asked for, e.g. `token status`). */
  print(text: string): void;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
}
