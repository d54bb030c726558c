import { type Command, InvalidArgumentError, Option } from "commander";
import type { CommandContext } from "../context.js";
import { parseDuration } from "../listing/when.js";
import { didYouMean } from "../suggest.js";

/** A command's run function: what its module exports, loaded only when the command runs. */
export type Runner<O> = (ctx: CommandContext, options: O) => Promise<void>;

/**
 * The command boundary, given to every declaration by cli.ts: it builds the context, imports the command's
 * module (`load`) and runs it. The import happens here, not at start-up, so `--help` and `--version` load
 * no command module (and with it no SDK, keychain binding or spinner).
 */
export type Launch = <O>(load: () => Promise<Runner<O>>, options: O, cmd: Command) => Promise<void>;

/** Repeatable flags: every occurrence is kept, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A repeatable `--extension N`: short extension numbers are digits. */
export function extensionNumber(value: string, previous: string[] | undefined): string[] {
  if (!/^\d{1,10}$/.test(value)) throw new InvalidArgumentError("must be an extension number (digits)");
  return [...(previous ?? []), value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
}

/** A duration flag's parser (`30s`, `55m`, `1h30m`, `1d12h`): commander names the flag in its own error line. */
export function durationOf(flag: string): (value: string) => number {
  return (value) => {
    try {
      return parseDuration(value, flag);
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message.replace(/^--[a-z-]+ "[^"]*": /, ""));
    }
  };
}

/** The 2-3 examples that end a command's `--help`. */
export function withExamples(cmd: Command, examples: readonly string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${examples.map((line) => `  $ ${line}`).join("\n")}`);
}

/**
 * A flag with a fixed set of values, matched as people type them (`--type automatic`, `--store FILE`, also from
 * the environment) and handed on as spelled in `values`; a value that is none of them names the nearest.
 */
export function choiceOption<T extends string>(
  flags: string,
  description: string,
  values: readonly T[],
): Option {
  return new Option(flags, description).choices(values).argParser((typed: string): T => {
    const match = values.find((value) => value.toLowerCase() === typed.trim().toLowerCase());
    if (match === undefined) {
      throw new InvalidArgumentError(
        `allowed choices are ${values.join(", ")}${didYouMean(typed.trim(), values)}`,
      );
    }
    return match;
  });
}
