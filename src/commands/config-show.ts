import type { Command } from "commander";
import {
  configPath,
  environmentValue,
  fileSettings,
  fromFile,
  loadConfig,
  sourceName,
} from "../config/resolve.js";
import type { CommandContext } from "../context.js";

interface Setting {
  key: string;
  /** The commands it applies to (`global` for the options every command takes). */
  commands: string[];
  value: unknown;
  source: "flag" | "env" | "file" | "default";
  /** `[profiles.NAME]` or `[defaults]` when it came from the file. */
  section?: string;
}

/**
 * Every setting the file may hold, resolved the way a command of this profile would resolve it: a flag (only the
 * global ones can be given to `config show` itself), else its environment variable, else the file, else the
 * default. Values pass through the redactor, and a URL shows only its scheme and host (a ping URL carries its
 * check's token in the path).
 */
export async function runConfigShow(ctx: CommandContext, options: { program: Command }): Promise<void> {
  const file = await loadConfig(ctx.env);
  const settings: Setting[] = [];
  for (const [key, owners] of fileSettings(options.program)) {
    const commands = owners.map(({ command }) => (command === options.program ? "global" : pathOf(command)));
    const { command, option } = owners[0] as (typeof owners)[number];
    const global = command === options.program;
    const found = file && fromFile(file, ctx.options.profile, key);
    const fromEnv = environmentValue(option, ctx.env);
    let source: Setting["source"];
    let value: unknown;
    if (global) {
      // The global options were resolved for this very command line (the file applied by cli.ts).
      source = sourceName(command.getOptionValueSource(option.attributeName()));
      value = command.getOptionValue(option.attributeName());
    } else if (fromEnv !== undefined) {
      source = "env";
      value = fromEnv;
    } else if (found) {
      source = "file";
      value = found.value;
    } else {
      source = "default";
      value = option.defaultValue;
    }
    const section = source === "file" ? found?.section : undefined;
    settings.push({ key, commands, value: shown(value), source, ...(section ? { section } : {}) });
  }
  const path = configPath(ctx.env);
  if (ctx.options.json) {
    ctx.printJson({ profile: ctx.options.profile, file: file ? path : null, settings });
    return;
  }
  ctx.print(`profile: ${ctx.options.profile}`);
  ctx.print(`config file: ${file ? path : `${path} (none)`}`);
  for (const s of settings) {
    const value = s.value === undefined ? "(unset)" : String(s.value);
    ctx.print(
      `${s.key} = ${value}  [${s.source}${s.section ? ` ${s.section}` : ""}; ${s.commands.join(", ")}]`,
    );
  }
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** A value as `config show` may print it: a URL without its path and query, a store URL whole (no secret). */
function shown(value: unknown): unknown {
  if (typeof value === "object" && value !== null && "kind" in value) {
    const store = value as unknown as { bucket: string; prefix: string };
    return `s3://${store.bucket}/${store.prefix}`;
  }
  if (typeof value !== "string" || !/^https?:\/\//i.test(value) || !URL.canParse(value)) return value;
  const url = new URL(value);
  return url.pathname === "/" && url.search === "" ? `${url.origin}` : `${url.origin}/…`;
}
