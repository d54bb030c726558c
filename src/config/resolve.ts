import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command, Option } from "commander";
import { UsageError } from "../errors.js";
import { configDir } from "../paths.js";

/**
 * The config file: per-profile defaults for the options commands already declare, so a setting is declared
 * once — as its command's option (flag, environment variable, parser, default) — and its key in the file is
 * the option's long name (`out`, `store`, `template`, `server`, …). Flags and environment still win: a value
 * from the file only fills an option that neither set. Options that describe one run, not a profile, are not
 * taken from the file.
 *
 * ```toml
 * [defaults]              # every profile
 * store = "file"
 * [profiles.acme]         # --profile acme (a pool: its first profile)
 * out = "s3://acme-archive/calls"
 * ```
 */

/** Where commander's sources are named as the documentation names them. */
export type SettingSource = "flag" | "env" | "file" | "default";

/** One run's choices, never a profile's defaults. */
const PER_RUN = new Set(["profile", "from", "to", "dry-run", "repair", "force", "verify", "help", "version"]);

/** Options whose command reads more environment variables for them than commander knows (see readsEnvironment). */
const moreEnvironment = new WeakMap<Option, readonly string[]>();

/**
 * Declare that the command reads `names` from the environment for this option itself (login's credentials, which
 * have several names each): a value from the file then yields to them, as flags and environment win everywhere.
 */
export function readsEnvironment<T extends Option>(option: T, names: readonly string[]): T {
  moreEnvironment.set(option, names);
  return option;
}

/** The environment value that sets `option`, if any (commander's own variable or the command's). */
export function environmentValue(option: Option, env: NodeJS.ProcessEnv): string | undefined {
  for (const name of [...(option.envVar ? [option.envVar] : []), ...(moreEnvironment.get(option) ?? [])]) {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

export interface ConfigFile {
  path: string;
  defaults: Record<string, unknown>;
  profiles: Record<string, Record<string, unknown>>;
}

/** `$RC_RECORDINGS_CONFIG`, else `$XDG_CONFIG_HOME/rc-recordings/config.toml` (the OS equivalent elsewhere). */
export function configPath(env: NodeJS.ProcessEnv): string {
  if (env.RC_RECORDINGS_CONFIG) return env.RC_RECORDINGS_CONFIG;
  return env.XDG_CONFIG_HOME
    ? join(env.XDG_CONFIG_HOME, "rc-recordings", "config.toml")
    : join(configDir(), "config.toml");
}

/** The file, or undefined when there is none; anything malformed is one usage line naming the file. */
export async function loadConfig(env: NodeJS.ProcessEnv): Promise<ConfigFile | undefined> {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" && !env.RC_RECORDINGS_CONFIG) return undefined;
    throw new UsageError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  const { parse, TomlError } = await import("smol-toml");
  let raw: Record<string, unknown>;
  try {
    raw = parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line})` : "";
    throw new UsageError(`${path}${where}: not valid TOML: ${firstLine((error as Error).message)}`);
  }
  const bad = (why: string) => new UsageError(`${path}: ${why}`);
  for (const key of Object.keys(raw)) {
    if (key !== "defaults" && key !== "profiles") {
      throw bad(`unknown section "${key}" (expected [defaults] and [profiles.NAME])`);
    }
  }
  const defaults = table(raw.defaults, "[defaults]", bad);
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const [name, section] of Object.entries(table(raw.profiles, "[profiles]", bad))) {
    profiles[name] = table(section, `[profiles.${name}]`, bad);
  }
  return { path, defaults, profiles };
}

function table(
  value: unknown,
  name: string,
  bad: (why: string) => UsageError,
): Record<string, Record<string, unknown>> & Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw bad(`${name} is not a table`);
  return value as Record<string, Record<string, unknown>>;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

/** The command and the ones above it: where its options (its own and the global ones) are declared. */
function lineage(command: Command): Command[] {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.push(c);
  return chain;
}

/** The options of the whole program that the file may set: key -> declaring command and option. */
export function fileSettings(program: Command): Map<string, { command: Command; option: Option }[]> {
  const settings = new Map<string, { command: Command; option: Option }[]>();
  const visit = (command: Command) => {
    for (const option of command.options) {
      const key = option.long?.replace(/^--/, "");
      if (!key || PER_RUN.has(key) || option.negate) continue;
      settings.set(key, [...(settings.get(key) ?? []), { command, option }]);
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
  return settings;
}

/** The value the file gives `key` for `profile`, and where in the file it is. */
export function fromFile(
  file: ConfigFile,
  profile: string,
  key: string,
): { value: unknown; section: string } | undefined {
  const own = file.profiles[profile];
  if (own && key in own) return { value: own[key], section: `[profiles.${profile}]` };
  if (key in file.defaults) return { value: file.defaults[key], section: "[defaults]" };
  return undefined;
}

/**
 * Fill the options of `command` (and the global ones) that neither a flag nor the environment set with the
 * file's values for the run's profile, through each option's own parser and choices, so a value from the file is
 * checked exactly as the same value on the command line would be. Keys the program does not know are an error.
 */
export function applyConfig(file: ConfigFile, command: Command, env: NodeJS.ProcessEnv): void {
  const root = lineage(command).at(-1) as Command;
  const known = fileSettings(root);
  // Every value is checked, not only the running command's: a bad one fails every run at once, not months
  // later in the one command that uses it.
  for (const [section, values] of [
    ["[defaults]", file.defaults],
    ...Object.entries(file.profiles).map(([name, v]) => [`[profiles.${name}]`, v] as const),
  ] as const) {
    for (const [key, value] of Object.entries(values)) {
      const owners = known.get(key);
      if (!owners) throw new UsageError(`${file.path} ${section}: unknown setting "${key}"`);
      for (const { option } of owners) parseValue(option, value, `${file.path} ${section} ${key}`);
    }
  }
  const profiles = root.opts().profile as string[] | undefined;
  const profile = profiles?.[0] ?? "default";
  for (const owner of lineage(command)) {
    for (const option of owner.options) {
      const key = option.long?.replace(/^--/, "");
      if (!key || !known.has(key)) continue;
      const attribute = option.attributeName();
      const source = owner.getOptionValueSource(attribute);
      if (source !== undefined && source !== "default") continue; // a flag or the environment won
      if (environmentValue(option, env) !== undefined) continue; // the command reads the environment itself
      const found = fromFile(file, profile, key);
      if (!found) continue;
      owner.setOptionValueWithSource(
        attribute,
        parseValue(option, found.value, `${file.path} ${found.section} ${key}`),
        "config",
      );
    }
  }
}

function parseValue(option: Option, value: unknown, where: string): unknown {
  if (typeof value === "boolean") {
    if (option.required || option.optional) throw new UsageError(`${where}: expects a value, not ${value}`);
    return value;
  }
  if (typeof value !== "string" && typeof value !== "number") {
    throw new UsageError(`${where}: expects a string or a number`);
  }
  if (!option.required && !option.optional) throw new UsageError(`${where}: is a switch: use true or false`);
  const text = String(value);
  // Any case, as on the command line (choiceOption): `mode = "COMPLIANCE"` is `--object-lock-mode compliance`.
  const typed = text.trim().toLowerCase();
  if (option.argChoices && !option.argChoices.some((choice) => choice.toLowerCase() === typed)) {
    throw new UsageError(`${where}: "${text}" is not one of ${option.argChoices.join(", ")}`);
  }
  try {
    return option.parseArg ? option.parseArg(text, undefined) : text;
  } catch (error) {
    throw new UsageError(`${where}: ${(error as Error).message}`);
  }
}

/**
 * The settings `keys` (long option names of `command`) of a command line that commander could not parse to the
 * end (an unknown option, a missing value), as far as they can be known: the value commander parsed before it
 * stopped, else one written later on the line (`--key VALUE`, `--key=VALUE`; commander parses nothing after an
 * unknown option), else the environment's, else the config file's for `profile` (a file that cannot be read
 * gives nothing). Unchecked strings: the caller decides what a bad one costs.
 */
export async function settingsOfUnparsedLine(
  command: Command,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  profile: string,
  keys: readonly string[],
): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  let file: Promise<ConfigFile | undefined> | undefined;
  for (const option of command.options) {
    const key = option.long?.replace(/^--/, "");
    if (!key || !keys.includes(key)) continue;
    const parsed = command.getOptionValue(option.attributeName());
    let value =
      typeof parsed === "string" ? parsed : (writtenValue(args, `--${key}`) ?? environmentValue(option, env));
    if (value === undefined) {
      file ??= loadConfig(env).catch(() => undefined);
      const found = await file.then((f) => f && fromFile(f, profile, key));
      if (typeof found?.value === "string") value = found.value;
    }
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/** The last value of `--flag VALUE` or `--flag=VALUE` on a command line (the last one wins, as in commander). */
function writtenValue(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--") break;
    if (arg === flag && i + 1 < args.length) value = args[++i];
    else if (arg.startsWith(`${flag}=`)) value = arg.slice(flag.length + 1);
  }
  return value;
}

/** How commander names a value's source, in the documentation's words. */
export function sourceName(source: string | undefined): SettingSource {
  if (source === "cli") return "flag";
  if (source === "env") return "env";
  if (source === "config") return "file";
  return "default";
}
