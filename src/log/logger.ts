import { printable, printableJson } from "./printable.js";
import { redact, redactValue } from "./redact.js";

export type Verbosity = "quiet" | "normal" | "verbose";

/** `--log-format`: lines for people, or one JSON object per line for journald and log shippers. */
export type LogFormat = "text" | "json";

export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

export type LogLevel = "error" | "warn" | "info" | "debug";

/** What happened to one recording (json field `event`), or a wait of the run. */
export type LogEvent = "saved" | "skipped" | "failed" | "retry" | "wait" | "progress";

/**
 * Structured facts of a line. In text mode they are not printed (the message says it for people); in json
 * mode they become fields of the line's object beside `time`, `level` and `msg`.
 */
export interface LogFields {
  event?: LogEvent | undefined;
  recordingId?: string | undefined;
  path?: string | undefined;
  bytes?: number | undefined;
  sha256?: string | undefined;
  error?: string | undefined;
  /** Any other fact (waitMs, reason, cause, hint, ...): numbers, strings and booleans only. */
  [field: string]: string | number | boolean | undefined;
}

export interface LogSink {
  write(text: string): unknown;
}

/**
 * Logs go to stderr only (stdout is reserved for `--json`), one line per message, always redacted (in json
 * mode every field). `--quiet` keeps errors; `--verbose` adds debug lines.
 */
export class Logger {
  constructor(
    readonly verbosity: Verbosity = "normal",
    private readonly sink: LogSink = process.stderr,
    readonly format: LogFormat = "text",
    private readonly now: () => Date = () => new Date(),
  ) {}

  error(message: string, fields?: LogFields): void {
    this.emit("error", `rc-recordings: ${message}`, message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    if (this.verbosity !== "quiet") this.emit("warn", `warning: ${message}`, message, fields);
  }

  info(message: string, fields?: LogFields): void {
    if (this.verbosity !== "quiet") this.emit("info", message, message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    if (this.verbosity === "verbose") this.emit("debug", `debug: ${message}`, message, fields);
  }

  private emit(level: LogLevel, line: string, message: string, fields: LogFields | undefined): void {
    if (this.format === "text") {
      this.sink.write(`${printable(redact(line))}\n`);
      return;
    }
    // A multi-line message (a stack) stays ONE object: JSON escapes the newlines.
    const object = { time: this.now().toISOString(), level, msg: message, ...definedFields(fields) };
    this.sink.write(`${printableJson(JSON.stringify(redactValue(object)))}\n`);
  }
}

function definedFields(fields: LogFields | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined && key !== "time" && key !== "level" && key !== "msg") out[key] = value;
  }
  return out;
}

/**
 * The format asked for before commander has parsed anything, so that even a usage error is a JSON line:
 * `--log-format json`, `--log-format=json`, else RC_RECORDINGS_LOG_FORMAT. Unknown values fall back to text
 * here; commander then rejects them with a usage error.
 */
export function requestedLogFormat(argv: readonly string[], env: NodeJS.ProcessEnv): LogFormat {
  let value: string | undefined = env.RC_RECORDINGS_LOG_FORMAT;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") break;
    if (arg === "--log-format") value = argv[i + 1];
    else if (arg.startsWith("--log-format=")) value = arg.slice("--log-format=".length);
  }
  return value === "json" ? "json" : "text";
}
