import type { CommandContext } from "../context.js";
import { OperationError } from "../errors.js";
import { type Check, runChecks } from "./doctor-checks.js";

/** At least one check found a problem: exit 1 (the lines above name each one and its fix). */
class DoctorFoundProblems extends OperationError {}

/**
 * `doctor [--out DIR|s3://…]`: one line per check on stdout (a problem's fix on the line below it), or with
 * `--json` the result `{schema, command, exitCode, …, ok, checks:[{name, ok, detail, fix}]}`; exit 0 when all is
 * well, 1 when anything is not.
 */
export async function runDoctor(ctx: CommandContext, flags: { out?: string }): Promise<void> {
  const checks = await runChecks(ctx, flags.out);
  const problems = checks.filter((check) => check.status === "problem");
  ctx.result.report({ ok: problems.length === 0, checks: checks.map(checkJson) });
  if (!ctx.options.json) ctx.print(checkLines(checks, flags.out === undefined).join("\n"));
  if (problems.length > 0) {
    throw new DoctorFoundProblems(
      `${problems.length === 1 ? "1 problem" : `${problems.length} problems`} found: ${problems.map((c) => c.name).join(", ")}`,
    );
  }
}

/** A check as the JSON result shows it: `ok` true or false; a check that could not be made says `skipped`. */
function checkJson(check: Check) {
  return {
    name: check.name,
    ok: check.status === "ok",
    ...(check.status === "skipped" ? { skipped: true } : {}),
    detail: check.detail,
    fix: check.fix,
  };
}

function checkLines(checks: readonly Check[], noOut: boolean): string[] {
  const width = Math.max(...checks.map((check) => check.name.length));
  const lines: string[] = [];
  for (const check of checks) {
    const verdict = { ok: "ok     ", problem: "PROBLEM", skipped: "skipped" }[check.status];
    lines.push(`${verdict}  ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.fix) lines.push(`${" ".repeat(7 + 2 + width + 2)}fix: ${check.fix}`);
  }
  if (noOut) lines.push("(add --out DIR or --out s3://BUCKET/PREFIX to check the archive's destination too)");
  return lines;
}
