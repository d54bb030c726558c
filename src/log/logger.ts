import { eventFields, type LogEvent } from "./events.js";
import { printable, printableJson } from "./printable.js";
import { redact, redactValue } from "./redact.js";

export type Verbosity = "quiet" | "normal" | "verbose";

/** `--log-format`: lines for people, or one JSON object per line for journald and log shippers. */
export type LogFormat = "text" | "json";

export const LOG_FORMATS: readonly LogFormat[] = ["text", "json"];

export type LogLevel = "error" | "warn" | "info" | "debug";

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

  error(message: string, event?: LogEvent): void {
    this.emit("error", `rc-recordings: ${message}`, message, event);
  }

  warn(message: string, event?: LogEvent): void {
    if (this.verbosity !== "quiet") this.emit("warn", `warning: ${message}`, message, event);
  }

  info(message: string, event?: LogEvent): void {
    if (this.verbosity !== "quiet") this.emit("info", message, message, event);
  }

  debug(message: string, event?: LogEvent): void {
    if (this.verbosity === "verbose") this.emit("debug", `debug: ${message}`, message, event);
  }

  private emit(level: LogLevel, line: string, message: string, event: LogEvent | undefined): void {
    // Redacted before it is cut, so a cut can never leave half a secret that the redactor no longer knows.
    if (this.format === "text") {
      // A line break in server text must not start a line of its own (a forged "saved …" line): every line
      // after the first is indented.
      this.sink.write(`${capped(printable(redact(line))).replaceAll("\n", "\n  ")}\n`);
      return;
    }
    // A multi-line message (a stack) stays ONE object: JSON escapes the newlines.
    const fields = event === undefined ? {} : eventFields(event);
    const object = redactValue({ time: this.now().toISOString(), level, msg: message, ...fields });
    this.sink.write(`${printableJson(JSON.stringify({ ...object, msg: capped(String(object.msg)) }))}\n`);
  }
}

/**
 * The format asked for before commander has parsed anything, so that even a usage error is a JSON line:
 * `--log-format json`, `--log-format=json` (any case), else RC_RECORDINGS_LOG_FORMAT. Unknown values fall back to text
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
  return value?.trim().toLowerCase() === "json" ? "json" : "text";
}

/** A line's text at most this long: a server's 100 kB error page is no log line. */
export const MAX_MESSAGE_CHARS = 4000;

function capped(message: string): string {
  if (message.length <= MAX_MESSAGE_CHARS) return message;
  return `${message.slice(0, MAX_MESSAGE_CHARS)}… [${message.length - MAX_MESSAGE_CHARS} more characters not shown]`;
}
