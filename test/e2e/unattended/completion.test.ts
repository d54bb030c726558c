import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../../src/cli.js";
import { completionTree } from "../../../src/commands/completion.js";
import type { CompletionCommand } from "../../../src/completion/scripts.js";
import { runCli, tempDir } from "../../helpers/cli.js";

// The scripts are generated from commander's tree, so the tests walk that same tree: every command and every flag
// the program declares must be offered by every shell. bash, zsh and fish run for real (.ci/run installs zsh
// and fish).

const exec = promisify(execFile);
const program = completionTree(
  buildProgram(
    async () => undefined,
    { stdout: { write: () => true }, stderr: { write: () => true } },
    () => undefined,
  ),
);

/** Every command with the words that lead to it (`["token", "status"]`). */
function commandsOf(
  command: CompletionCommand,
  path: string[] = [],
): { path: string[]; command: CompletionCommand }[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => commandsOf(sub, [...path, sub.name]))];
}

/** The flags a command takes: its own and (below the program) the program's but --help and --version. */
function flagsOf(path: string[], command: CompletionCommand, which: "long" | "all" = "long"): string[] {
  const global = path.length
    ? program.options.filter((o) => !o.names.some((n) => n === "--help" || n === "--version"))
    : [];
  const names = [...command.options, ...global].flatMap((o) => o.names);
  return [...new Set(names.filter((n) => which === "all" || n.startsWith("--")))].sort();
}

let dir: ReturnType<typeof tempDir>;
const scripts: Record<string, string> = {};
beforeAll(async () => {
  dir = tempDir("rcr-completion-");
  for (const shell of ["bash", "zsh", "fish"]) {
    const r = await runCli(["completion", shell]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    scripts[shell] = join(dir.path, `completion.${shell}`);
    writeFileSync(scripts[shell], r.stdout);
  }
}, 60_000);
afterAll(() => dir?.cleanup());

const all = commandsOf(program);

describe("rc-recordings completion", () => {
  it("the program has the commands the README lists, completion among them", () => {
    expect(program.commands.map((c) => c.name)).toEqual(
      expect.arrayContaining(["login", "download", "verify", "report", "token", "config", "completion"]),
    );
    expect(all.length).toBeGreaterThan(10);
  });

  it("bash: the completion function offers every command, every flag and the values of a flag with choices", async () => {
    // One bash, one call of the function per case, as bash-completion calls it: COMP_WORDS and COMP_CWORD set.
    const cases: { words: string[]; expected: string[]; exact: boolean }[] = [];
    for (const { path, command } of all) {
      cases.push({ words: [...path, "--"], expected: flagsOf(path, command), exact: true });
      if (command.commands.length) {
        cases.push({
          words: [...path, ""],
          expected: command.commands.map((c) => c.name).sort(),
          exact: true,
        });
      }
      for (const option of command.options.filter((o) => o.choices?.length)) {
        cases.push({
          words: [...path, option.names[0] as string, ""],
          expected: [...(option.choices ?? [])].sort(),
          exact: true,
        });
      }
    }
    cases.push({ words: ["dow"], expected: ["download"], exact: true });
    cases.push({ words: ["--profile", "work", "download", "--ty"], expected: ["--type"], exact: true });
    cases.push({ words: ["completion", ""], expected: ["bash", "fish", "zsh"], exact: true });
    const script = cases
      .map(
        ({ words }) =>
          `COMP_WORDS=(rc-recordings ${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length}; COMPREPLY=(); _rc_recordings; printf '%s\\n' "\${COMPREPLY[*]}"`,
      )
      .join("\n");
    const { stdout } = await exec("bash", [
      "--norc",
      "--noprofile",
      "-c",
      `source '${scripts.bash}'\n${script}`,
    ]);
    const answers = stdout.split("\n");
    cases.forEach(({ words, expected }, i) => {
      expect((answers[i] ?? "").split(" ").filter(Boolean).sort(), words.join(" ")).toEqual(expected);
    });
  }, 60_000);

  it("zsh: the script loads, registers the function and it offers every command and flag", async () => {
    const calls = all.map(
      ({ path }) =>
        `COMP_WORDS=(rc-recordings ${[...path, "--"].map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${path.length + 1}; COMPREPLY=(); emulate sh -c '_rc_recordings; printf "%s\\n" "\${COMPREPLY[*]}"'`,
    );
    const { stdout } = await exec(
      "zsh",
      ["-f", "-c", `source '${scripts.zsh}'\nprint -r -- "\${_comps[rc-recordings]}"\n${calls.join("\n")}`],
      { env: { HOME: dir.path, PATH: process.env.PATH } },
    );
    const [registered, ...answers] = stdout.split("\n");
    expect(registered).toBe("_bash_complete -o filenames -F _rc_recordings");
    all.forEach(({ path, command }, i) => {
      // zsh narrows the candidates to the typed prefix itself: the function hands it the command's flags.
      expect((answers[i] ?? "").split(" ").filter(Boolean).sort(), path.join(" ")).toEqual(
        flagsOf(path, command, "all"),
      );
    });
  }, 60_000);

  it("fish: `complete -C` offers every command, every flag and the values of a flag with choices", async () => {
    const lines = (text: string) =>
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0] as string);
    const cases: { line: string; expected: string[] }[] = [];
    for (const { path, command } of all) {
      cases.push({ line: [...path, "--"].join(" "), expected: flagsOf(path, command) });
      if (command.commands.length)
        cases.push({ line: [...path, ""].join(" "), expected: command.commands.map((c) => c.name).sort() });
      for (const option of command.options.filter((o) => o.choices?.length)) {
        cases.push({
          line: [...path, option.names[0], ""].join(" "),
          expected: [...(option.choices ?? [])].sort(),
        });
      }
    }
    const script = cases.map(({ line }) => `complete -C 'rc-recordings ${line}'; echo '@@'`).join("\n");
    const { stdout } = await exec("fish", ["--no-config", "-c", `source '${scripts.fish}'\n${script}`], {
      env: { HOME: dir.path, PATH: process.env.PATH },
    });
    const answers = stdout.split("@@\n");
    cases.forEach(({ line, expected }, i) => {
      expect(lines(answers[i] ?? "").sort(), line).toEqual(expected);
    });
  }, 60_000);

  it("--help says how to install it, with examples; an unknown shell is exit 2", async () => {
    const help = await runCli(["completion", "--help"]);
    expect(help.stdout).toMatch(/bash-completion\/completions\/rc-recordings/);
    expect(help.stdout).toMatch(/fish\/completions\/rc-recordings\.fish/);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ rc-recordings completion bash/);
    const bad = await runCli(["completion", "tcsh"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/tcsh/);
  }, 30_000);
});
