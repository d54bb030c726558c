import type { ExitCode } from "./errors.js";

/** The version of the `--json` result's shape (docs/scheduling.md#the-json-result); raised on a breaking change. */
export const RESULT_SCHEMA = 1;

/** What every `--json` result of `download`, `verify`, `report`, `export` and `doctor` carries, whatever happened. */
export interface ResultEnvelope {
  schema: typeof RESULT_SCHEMA;
  command: string;
  exitCode: ExitCode;
  startedAt: string;
  endedAt: string;
  profile: string;
  /** `--out` as given (a folder or an s3:// URL); null for a command without one. */
  out: string | null;
  /** The one-line error when the exit code is not 0. */
  error?: string;
  [field: string]: unknown;
}

/** Called once the exit code is known (pings, the metrics file); bounded by the listener itself. */
export type FinishListener = (result: ResultEnvelope) => Promise<void>;

/**
 * The result of one run of a command that promises a result on every exit: the command reports what it found
 * (`report`); cli.ts adds the envelope and finishes it exactly once, also when the command never started (bad
 * usage) or crashed. Printed on stdout only with `--json`; the listeners (ping, metrics) get it either way.
 */
export class CommandResult {
  readonly startedAt = new Date();
  private body: Record<string, unknown> = {};
  private streamEnd: ((document: object) => void) | undefined;
  private readonly listeners: FinishListener[] = [];
  private finished = false;

  constructor(
    readonly command: string,
    readonly where: { profile: string; out: string | null },
  ) {}

  /** What the command found (a download summary, a verify report, the doctor's checks). */
  report(body: object): void {
    this.body = { ...body };
  }

  /** The JSON document was started on stdout in pieces (the dry-run plan): the result must end that one. */
  endStreamWith(end: (document: object) => void): void {
    this.streamEnd = end;
  }

  onFinish(listener: FinishListener): void {
    this.listeners.push(listener);
  }

  /** Someone listens for the end (the command set up its pings or metrics file). */
  get observed(): boolean {
    return this.listeners.length > 0;
  }

  envelope(exitCode: ExitCode, error: string | undefined): ResultEnvelope {
    const { error: _reported, ...body } = this.body;
    return {
      schema: RESULT_SCHEMA,
      command: this.command,
      exitCode,
      startedAt: this.startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      profile: this.where.profile,
      out: this.where.out,
      ...body,
      ...(error === undefined ? {} : { error }),
    };
  }

  /** Print (with `--json`) and hand the result to the listeners; only the first call does anything. */
  async finish(
    exitCode: ExitCode,
    error: string | undefined,
    print: ((document: object) => void) | undefined,
  ): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    const envelope = this.envelope(exitCode, error);
    if (print) (this.streamEnd ?? print)(envelope);
    for (const listener of this.listeners) await listener(envelope).catch(() => undefined);
  }
}

/** The commands whose `--json` result is printed on every exit (docs/scheduling.md#the-json-result). */
export const RESULT_COMMANDS: ReadonlySet<string> = new Set([
  "download",
  "verify",
  "report",
  "export",
  "doctor",
]);

/**
 * The command and `--out` of a command line that commander could not parse (an unknown option, a bad value):
 * enough for the result of a run that never started. Global options that take a value are skipped with it.
 */
export function peekCommandLine(args: readonly string[]): {
  command: string | undefined;
  out: string | undefined;
  profile: string | undefined;
  json: boolean;
} {
  const valued = new Set(["--profile", "--store", "--log-format"]);
  let command: string | undefined;
  let out: string | undefined;
  let profile: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") break;
    if (arg === "--json") json = true;
    if (command === undefined) {
      if (arg === "--profile") profile ??= args[i + 1];
      if (valued.has(arg)) i++;
      else if (!arg.startsWith("-")) command = arg;
      continue;
    }
    if (arg === "-o" || arg === "--out") out = args[++i];
    else if (arg.startsWith("--out=")) out = arg.slice("--out=".length);
  }
  return { command, out, profile, json };
}
