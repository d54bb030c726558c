import { ArchiveDamagedError, verifyArchive } from "../archive/verify.js";
import type { CommandContext } from "../context.js";
import { createVerifyProgress } from "../ui/verify-progress.js";

/** The options commander hands over (declared in verify.command.ts). */
export interface VerifyFlags {
  out: string;
}

/**
 * Prove the archive in DIR is intact: every recording the manifest lists re-read and hashed. Each problem is a
 * line on stderr; `--json` prints the report on stdout. Exit 3 when anything is missing or changed.
 */
export async function runVerify(ctx: CommandContext, flags: VerifyFlags): Promise<void> {
  const destination = await ctx.factory.destination(flags.out);
  const progress = await createVerifyProgress({
    log: ctx.log,
    stderrIsTTY: ctx.stderrIsTTY,
    env: ctx.env,
    dir: destination.describe(),
  });
  const report = await verifyArchive(destination, { progress, signal: ctx.signal }).finally(() =>
    progress.close(),
  );
  for (const path of report.missing) ctx.log.error(`missing: ${path}`);
  for (const path of report.changed) ctx.log.error(`changed: ${path}`);
  for (const path of report.unknown) ctx.log.warn(`not in the manifest: ${path}`);
  ctx.result.report(report);
  const damaged = report.missing.length + report.changed.length;
  const unknown =
    report.unknown.length > 0 ? `; ${report.unknown.length} audio files not in the manifest` : "";
  if (damaged > 0) {
    throw new ArchiveDamagedError(
      `${damaged} of ${report.checked} recordings missing or changed (${report.missing.length} missing, ${report.changed.length} changed)${unknown}`,
    );
  }
  ctx.log.info(`all ${report.checked} recordings intact${unknown}`);
}
