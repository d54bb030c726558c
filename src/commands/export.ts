import { mkdir, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { resolve, sep } from "node:path";
import { exportArchive, SourceDamagedError } from "../archive/export.js";
import type { CommandContext } from "../context.js";
import { isStoreUrl } from "../destination/open.js";
import { UsageError } from "../errors.js";
import { isNotFound } from "../fs-util.js";
import type { RangeFlags } from "./archive-setup.js";
import { FROM_RETENTION, timeRangeOf } from "./time-range.js";

/** The options commander hands over (declared in export.command.ts). */
export interface ExportFlags extends RangeFlags {
  out: string;
  toDir: string;
  extension?: string[];
}

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

/**
 * A production request: the recordings of a range, with what a recipient needs to check them on their own,
 * copied into a new folder. The archive is only read (and must be idle and intact). Exit 3 when some recordings
 * of the range could not be exported because the archive does not hold them intact (the export holds the rest).
 */
export async function runExport(ctx: CommandContext, flags: ExportFlags): Promise<void> {
  const range = timeRangeOf(flags, new Date());
  if (range.from === FROM_RETENTION) {
    throw new UsageError(
      "--from retention needs the account: give a date or a duration (e.g. 30d) to export",
    );
  }
  const toDir = await checkExportFolder(flags.toDir, flags.out);
  const source = await ctx.factory.destination(flags.out);
  const extensions = flags.extension?.length ? new Set(flags.extension) : undefined;
  const report = await exportArchive(
    source,
    async () => {
      await mkdir(toDir, { recursive: true });
      return ctx.factory.destination(toDir);
    },
    { from: range.from, to: range.to, extensions },
    { signal: ctx.signal, version, log: (line) => ctx.log.error(line) },
  );
  ctx.result.report({
    ...report,
    toDir,
    from: range.from?.toISOString() ?? null,
    to: range.to.toISOString(),
  });
  if (report.problems.length > 0) {
    throw new SourceDamagedError(
      `${report.problems.length} recordings of the range are missing or changed in ${source.describe()} and were not exported; ${toDir} holds the other ${report.exported}`,
    );
  }
  ctx.log.info(
    `exported ${report.exported} recordings (${report.bytes} bytes) into ${toDir}; the recipient checks it with: rc-recordings verify --out ${toDir}`,
  );
}

/**
 * `--to-dir`: a local folder that is new or empty (an export never mixes with other files, nor overwrites any),
 * outside the archive (which export only reads). Its absolute path is returned; it is made once the archive
 * proved readable and intact.
 */
async function checkExportFolder(toDir: string, out: string): Promise<string> {
  if (isStoreUrl(toDir)) {
    throw new UsageError(
      `--to-dir ${JSON.stringify(toDir)}: an export is a local folder (copy it anywhere afterwards)`,
    );
  }
  const dir = resolve(toDir);
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UsageError(`--to-dir ${dir} is a file, not a folder`);
    if ((await readdir(dir)).length > 0) {
      throw new UsageError(`--to-dir ${dir} is not empty: an export goes into a new or empty folder`);
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (!isStoreUrl(out)) {
    const archive = resolve(out);
    if (dir === archive || dir.startsWith(`${archive}${sep}`)) {
      throw new UsageError(`--to-dir ${dir} is inside the archive ${archive}: export only reads the archive`);
    }
  }
  return dir;
}
