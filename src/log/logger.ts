import { redact } from "./redact.js";

export type Verbosity = "quiet" | "normal" | "verbose";

export interface LogSink {
  write(text: string): unknown;
}

/**
 * Logs go to stderr only (stdout is reserved for `--json`), one line per message, always redacted.
 * `--quiet` keeps errors; `--verbose` adds debug lines.
 */
export class Logger {
  constructor(
    readonly verbosity: Verbosity = "normal",
    private readonly sink: LogSink = process.stderr,
  ) {}

  error(message: string): void {
    this.emit(`rc-recordings: ${message}`);
  }

  warn(message: string): void {
    if (this.verbosity !== "quiet") this.emit(`warning: ${message}`);
  }

  info(message: string): void {
    if (this.verbosity !== "quiet") this.emit(message);
  }

  debug(message: string): void {
    if (this.verbosity === "verbose") this.emit(`debug: ${message}`);
  }

  private emit(line: string): void {
    this.sink.write(`${redact(line)}\n`);
  }
}
