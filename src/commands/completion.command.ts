import { Argument, type Command } from "commander";
import { SHELLS, type Shell } from "../completion/scripts.js";
import { type Launch, withExamples } from "./command.js";

/** `completion bash|zsh|fish`: a completion script made from this very program's commands and flags. */
export function declareCompletion(parent: Command, launch: Launch): Command {
  const cmd = parent
    .command("completion")
    .description("print a shell completion script (bash, zsh or fish) for every command and flag")
    .addArgument(new Argument("<shell>", "bash, zsh or fish").choices(SHELLS))
    .addHelpText(
      "after",
      `
Install (once; the script follows the installed version, so regenerate it after an upgrade):
  bash: rc-recordings completion bash > ~/.local/share/bash-completion/completions/rc-recordings
        (or add to ~/.bashrc: source <(rc-recordings completion bash))
  zsh:  add to ~/.zshrc: source <(rc-recordings completion zsh)
  fish: rc-recordings completion fish > ~/.config/fish/completions/rc-recordings.fish`,
    )
    .action((shell: Shell, _opts: unknown, c: Command) =>
      launch(async () => (await import("./completion.js")).runCompletion, { shell, program: parent }, c),
    );
  return withExamples(cmd, [
    "rc-recordings completion bash > ~/.local/share/bash-completion/completions/rc-recordings",
    "source <(rc-recordings completion zsh)",
    "rc-recordings completion fish > ~/.config/fish/completions/rc-recordings.fish",
  ]);
}
