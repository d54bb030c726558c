import type { Command, Option } from "commander";
import {
  type CompletionCommand,
  type CompletionOption,
  completionScript,
  type Shell,
} from "../completion/scripts.js";
import type { CommandContext } from "../context.js";

/** Print the completion script of `program`, read from commander's own tree of commands, options and choices. */
export async function runCompletion(
  ctx: CommandContext,
  options: { shell: Shell; program: Command },
): Promise<void> {
  ctx.print(completionScript(options.shell, completionTree(options.program)).trimEnd());
}

/** The commands, flags and fixed argument values of a commander program, as the completion scripts need them. */
export function completionTree(command: Command): CompletionCommand {
  return {
    name: command.name(),
    description: command.description(),
    options: [...command.options.filter((o) => !o.hidden), helpOptionOf(command)].flatMap(optionOf),
    commands: command.commands.map(completionTree),
    argumentChoices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
  };
}

function optionOf(option: Option | null): CompletionOption[] {
  if (!option) return [];
  const names = [option.long, option.short].filter((n): n is string => typeof n === "string");
  return [
    {
      names,
      description: option.description,
      takesValue: option.required || option.optional,
      choices: option.argChoices,
    },
  ];
}

/** `-h, --help`: commander adds it to every command outside `options`. */
function helpOptionOf(command: Command): Option | null {
  return (
    command
      .createHelp()
      .visibleOptions(command)
      .find((o) => o.long === "--help") ?? null
  );
}
