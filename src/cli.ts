import { createRequire } from "node:module";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { StoreRequest } from "./auth/store/types.js";
import { CommandResult, peekCommandLine, RESULT_COMMANDS } from "./command-result.js";
import { choiceOption, collect, type Launch } from "./commands/command.js";
import { declareCompletion } from "./commands/completion.command.js";
import { declareConfig } from "./commands/config.command.js";
import { declareDoctor } from "./commands/doctor.command.js";
import { declareDownload, END_OF_RUN_OPTIONS } from "./commands/download.command.js";
import { declareExport } from "./commands/export.command.js";
import { declareLogin } from "./commands/login.command.js";
import { declareLogout } from "./commands/logout.command.js";
import { declareReport } from "./commands/report.command.js";
import { declareToken } from "./commands/token.command.js";
import { declareVerify } from "./commands/verify.command.js";
import { declareWatch } from "./commands/watch.command.js";
import type { CommandContext, Factory, GlobalOptions } from "./context.js";
import { isS3Url, parseS3Url } from "./destination/s3/url.js";
import { ExitCode, exitCodeOf, InterruptedError, LoginRequiredError } from "./errors.js";
import { defaultFactory } from "./factory.js";
import { LOG_FORMATS, type LogFormat, Logger, requestedLogFormat } from "./log/logger.js";
import { printable, printableJson } from "./log/printable.js";
import { redact } from "./log/redact.js";
import { refuseDisabledCertificateChecks } from "./tls-checks.js";

// Only commander, the commands' declarations and our own small modules load at start-up; each command's module
// (and with it the SDK, the keychain binding, ora, ...) is imported when it runs (commands/command.ts Launch),
// so `--version` and `--help` stay close to a bare `node` start.

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
/** `--version`: what a bug report needs, the runtime and platform with the release (no module loaded for it). */
const VERSION_LINE = `rc-recordings ${version} (Node.js ${process.version}, ${process.platform}-${process.arch})`;

/** The whole command tree (also read by `completion` and its tests): commands, flags, their parsers and help. */
export function buildProgram(
  launch: Launch,
  io: Pick<CliIo, "stdout" | "stderr">,
  /** Where commander's own errors (unknown option, bad value) go: in json mode a line of the log. */
  outputError: (text: string, write: (text: string) => void) => void,
) {
  const program = new Command("rc-recordings")
    .description("Archive RingCentral call recordings: log in once, reuse the token, download safely.")
    .version(VERSION_LINE, "-V, --version", "print the version, the Node.js version and the platform")
    .addOption(
      new Option(
        "--profile <name>",
        "profile: an independent login (app + user); download takes several (a pool), default: default",
      )
        .env("RC_RECORDINGS_PROFILE")
        .argParser(collect),
    )
    .addOption(
      new Option(
        "--store <kind>",
        "where the token pair lives: keychain (default; else file with a warning), file, or s3://BUCKET/PREFIX shared by many machines",
      )
        .argParser(storeRequest)
        .env("RC_RECORDINGS_STORE"),
    )
    .option("--json", "print a machine-readable JSON result on stdout", false)
    .option("-v, --verbose", "more log lines on stderr (secrets are always redacted)", false)
    .option("-q, --quiet", "only errors on stderr", false)
    .addOption(
      choiceOption("--log-format <format>", "stderr lines: text, or one JSON object per line", LOG_FORMATS)
        .env("RC_RECORDINGS_LOG_FORMAT")
        .default("text"),
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    // Set before the subcommands are added: they copy these settings when created.
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => outputError(text, write),
    });
  // Each command declares its own flags beside its run function (src/commands/*.command.ts).
  for (const declare of [
    declareLogin,
    declareLogout,
    declareDownload,
    declareWatch,
    declareVerify,
    declareReport,
    declareExport,
    declareDoctor,
    declareToken,
    declareConfig,
    declareCompletion,
  ])
    declare(program, launch);
  return program;
}

/** Commands that take several `--profile` (a pool of logins sharing the Heavy work). */
const POOL_COMMANDS = new Set(["download", "watch"]);

/** `--store`: a local backend by name, or the shared store of many machines in a bucket. */
function storeRequest(value: string): StoreRequest {
  const name = value.trim().toLowerCase();
  if (name === "keychain" || name === "file") return name;
  if (!isS3Url(value)) throw new InvalidArgumentError("must be keychain, file or s3://BUCKET[/PREFIX]");
  try {
    return { kind: "s3", ...parseS3Url(value, "--store") };
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--store "[^"]*": /, ""));
  }
}

function globalsOf(cmd: Command, logFormat: LogFormat): GlobalOptions {
  const all = cmd.optsWithGlobals() as Record<string, unknown>;
  const profiles =
    Array.isArray(all.profile) && all.profile.length > 0 ? all.profile.map(String) : ["default"];
  return {
    profile: profiles[0] as string,
    profiles,
    store: all.store as StoreRequest | undefined,
    json: Boolean(all.json),
    verbose: Boolean(all.verbose),
    quiet: Boolean(all.quiet),
    logFormat,
  };
}

/** The process around a CLI run: its streams, environment and terminal, and how its services are built. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  stdinIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** main: catch what escapes the command's own promise, so that it too ends in one line and the result. */
  onCrash?: (handle: (error: unknown) => Promise<ExitCode>) => void;
  /** The real services by default; a unit test passes fakes. */
  factory?: (ctx: Omit<CommandContext, "factory">) => Factory;
  /** Where the runtime reports its warnings (the process); each becomes a line of the run's log. */
  warnings?: WarningSource;
}

/** The `warning` events of a process (Node's `process.emitWarning`). */
export interface WarningSource {
  on(event: "warning", listener: (warning: Error) => void): unknown;
  off(event: "warning", listener: (warning: Error) => void): unknown;
}

/** Run one command line and return its exit code: the one place that turns a thrown error into a line on
 * stderr and an exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // Known before commander parses anything, so that its usage errors are lines of the chosen format too (the
  // option itself is declared for --help and for commander's check of the value).
  const logFormat = requestedLogFormat(argv, io.env);
  let log = new Logger("normal", io.stderr, logFormat);
  const printJson = (value: unknown) => io.stdout.write(`${printableJson(redact(JSON.stringify(value)))}\n`);
  /** Set once a result command starts; a command line that never got that far gets one at the end. */
  let result: CommandResult | undefined;
  let json = false;
  /** The one profile of the command line (none for a pool): login hints name it. */
  let soleProfile: string | undefined;
  const program = buildProgram(
    async (load, options, cmd) => {
      const globals = globalsOf(cmd, logFormat);
      json = globals.json;
      soleProfile = globals.profiles.length === 1 ? globals.profile : undefined;
      if (RESULT_COMMANDS.has(cmd.name())) {
        const out = (options as { out?: unknown }).out;
        result = new CommandResult(cmd.name(), {
          profile: globals.profile,
          out: typeof out === "string" ? out : null,
        });
      }
      if (globals.quiet && globals.verbose) {
        throw new CommanderError(
          ExitCode.usage,
          "rc-recordings.usage",
          "--quiet and --verbose exclude each other",
        );
      }
      if (globals.profiles.length > 1 && !POOL_COMMANDS.has(cmd.name())) {
        throw new CommanderError(
          ExitCode.usage,
          "rc-recordings.usage",
          `'${cmd.name()}' takes one --profile (only 'download' and 'watch' take several); got ${globals.profiles.join(", ")}`,
        );
      }
      log = new Logger(
        globals.quiet ? "quiet" : globals.verbose ? "verbose" : "normal",
        io.stderr,
        logFormat,
      );
      refuseDisabledCertificateChecks(io.env);
      const base: Omit<CommandContext, "factory"> = {
        options: globals,
        log,
        signal: io.signal,
        env: io.env,
        printJson,
        print: (text) => io.stdout.write(`${printable(redact(text))}\n`),
        // Pieces of a JSON document (the streamed dry-run plan): escaped the JSON way.
        write: (text) => io.stdout.write(printableJson(redact(text))),
        result: result ?? new CommandResult(cmd.name(), { profile: globals.profile, out: null }),
        stdinIsTTY: io.stdinIsTTY,
        stderrIsTTY: io.stderrIsTTY,
      };
      const ctx: CommandContext = { ...base, factory: (io.factory ?? defaultFactory)(base) };
      const runner = await load();
      await runner(ctx, options);
    },
    io,
    // commander writes "error: ...\n(Did you mean --out?)\n": ONE line with the prefix of every other error.
    (text) => log.error(commanderLine(text)),
  );
  // A runtime warning is a line of the chosen format like any other (raw text would break --log-format json);
  // deprecations of dependencies are no news to the user, so they show only with --verbose.
  const onWarning = (warning: Error) => {
    const line = `node: ${warning.name}: ${warning.message}`;
    if (warning.name === "DeprecationWarning") log.debug(line);
    else log.warn(line);
    if (warning.stack) log.debug(warning.stack);
  };
  io.warnings?.on("warning", onWarning);
  /** The result of a result command, printed with --json, whatever ended the run (also a crash: main). */
  const finish = async (code: ExitCode, error: unknown): Promise<ExitCode> => {
    if (error instanceof CommanderError && error.exitCode === 0) return code; // --help, --version
    const peeked = peekCommandLine(argv.slice(2));
    if (!result && peeked.command !== undefined && RESULT_COMMANDS.has(peeked.command)) {
      json = peeked.json;
      result = new CommandResult(peeked.command, {
        profile: peeked.profile ?? io.env.RC_RECORDINGS_PROFILE ?? "default",
        out: peeked.out ?? null,
      });
    }
    if (result && !result.observed) await reportLate(result, program, argv.slice(2), io, log);
    await result?.finish(
      code,
      code === ExitCode.ok ? undefined : oneLine(error),
      json ? printJson : undefined,
    );
    return code;
  };
  const fail = (thrown: unknown) => {
    const error =
      thrown instanceof LoginRequiredError && soleProfile ? thrown.forProfile(soleProfile) : thrown;
    return finish(reportError(error, log, io.signal), error);
  };
  io.onCrash?.(fail);
  // The config file fills what neither a flag nor the environment set, before the command runs (src/config/).
  program.hook("preAction", async (_program, action) => {
    const { applyConfig, loadConfig } = await import("./config/resolve.js");
    const file = await loadConfig(io.env);
    if (file) applyConfig(file, action, io.env);
  });
  try {
    await program.parseAsync([...argv]);
    return await finish(ExitCode.ok, undefined);
  } catch (error) {
    return fail(error);
  } finally {
    io.warnings?.off("warning", onWarning);
  }
}

/** The entry point of bin/rc-recordings.js: the real process, its signals and its exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort(new InterruptedError());
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // Node's own listener prints every warning raw to stderr; runCli logs them instead.
  process.removeAllListeners("warning");
  // The reader of stdout went away (`--dry-run | head`): stop like an interruption, without a word.
  let stdoutClosed = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    stdoutClosed = true;
    if (error.code === "EPIPE") controller.abort(new StdoutClosedError());
    else controller.abort(error);
  });
  process.exitCode = await runCli(argv, {
    stdout: { write: (text) => stdoutClosed || process.stdout.write(text) },
    stderr: process.stderr,
    env: process.env,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    signal: controller.signal,
    warnings: process,
    // A crash outside the command's own promise (an error event nobody handled): one line and the result.
    onCrash: (handle) => {
      const crash = (error: unknown) => {
        void handle(error).then((code) => process.exit(code));
      };
      process.on("uncaughtException", crash);
      process.on("unhandledRejection", crash);
    },
  });
}

/** Stdout's reader is gone: the run stops as if interrupted, and says nothing (there is nobody to read it). */
class StdoutClosedError extends InterruptedError {
  constructor() {
    super("stdout was closed");
  }
}

/**
 * A run that ended before its command started (commander's usage errors, a bad config file, a refused option) still
 * pings and writes its metrics file, when the command line, the environment or the config file named them.
 */
async function reportLate(
  result: CommandResult,
  program: Command,
  args: readonly string[],
  io: CliIo,
  log: Logger,
): Promise<void> {
  const command = program.commands.find((c) => c.name() === result.command);
  const keys = command?.options.flatMap((o) => (o.long ? [o.long.slice(2)] : []));
  if (!command || !END_OF_RUN_OPTIONS.some((key) => keys?.includes(key))) return;
  const { settingsOfUnparsedLine } = await import("./config/resolve.js");
  const settings = await settingsOfUnparsedLine(
    command,
    args,
    io.env,
    result.where.profile,
    END_OF_RUN_OPTIONS,
  );
  const flags = { pingUrl: settings["ping-url"], metricsFile: settings["metrics-file"] };
  if (!flags.pingUrl && !flags.metricsFile) return;
  const { reportEndOfRun } = await import("./commands/run-notices.js");
  const deps = { log, signal: io.signal, starting: false };
  try {
    reportEndOfRun(result, flags, deps);
  } catch (error) {
    // A ping URL that is no URL: the run's own error line comes first; the metrics file is still written.
    log.debug(`no ping: ${(error as Error).message}`);
    reportEndOfRun(result, { metricsFile: flags.metricsFile }, deps);
  }
}

/** commander's message as one line, its "error: " left to the logger's prefix: `unknown option '--ot' (did you mean --out?)`. */
function commanderLine(text: string): string {
  return text
    .trim()
    .replace(/^error: /, "")
    .replace(/\s*\n\s*\(Did you mean/, " (did you mean")
    .replace(/\s*\n\s*/g, " ");
}

function oneLine(error: unknown): string {
  if (error instanceof CommanderError) return commanderLine(error.message);
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? "";
}

function reportError(error: unknown, log: Logger, signal: AbortSignal): ExitCode {
  if (signal.reason instanceof StdoutClosedError) return ExitCode.interrupted;
  if (error instanceof CommanderError) {
    // --help and --version end through here too, with exit code 0; commander already printed them.
    if (error.exitCode === 0) return ExitCode.ok;
    if (error.code === "rc-recordings.usage") log.error(error.message);
    return ExitCode.usage;
  }
  const code = exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  log.error(message);
  if (log.verbosity === "verbose" && error instanceof Error && error.stack && code === ExitCode.error) {
    log.debug(error.stack);
  }
  return code;
}
