import { type ChainReport, chainFailed } from "../archive/chain-audit.js";
import { CheckpointVerifier } from "../archive/checkpoint.js";
import { ArchiveDamagedError, verifyArchive } from "../archive/verify.js";
import type { CommandContext } from "../context.js";
import { UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { createVerifyProgress } from "../ui/verify-progress.js";
import { readKeyFile } from "./key-files.js";

/** The options commander hands over (declared in verify.command.ts). */
export interface VerifyFlags {
  out: string;
  /** A chain head recorded elsewhere (a run's `chainHead`): the chain must contain it. */
  chainHead?: string;
  /** An Ed25519 public key (PEM): every signed checkpoint must hold under it. */
  publicKey?: string;
}

/**
 * Prove the archive in DIR is intact: the manifest's hash chain followed (and its checkpoints checked with
 * `--public-key`), every recording it lists re-read and hashed. Each problem is a line on stderr; `--json` prints
 * the report on stdout. Exit 3 when anything is missing, changed, or the chain does not hold.
 */
export async function runVerify(ctx: CommandContext, flags: VerifyFlags): Promise<void> {
  const chainHead = flags.chainHead === undefined ? undefined : chainHeadOf(flags.chainHead);
  const verifier =
    flags.publicKey === undefined
      ? undefined
      : CheckpointVerifier.fromPem(await readKeyFile(flags.publicKey, "--public-key"), flags.publicKey);
  const destination = await ctx.factory.destination(flags.out);
  const progress = await createVerifyProgress({
    log: ctx.log,
    stderrIsTTY: ctx.stderrIsTTY,
    env: ctx.env,
    dir: destination.describe(),
  });
  const report = await verifyArchive(destination, {
    progress,
    signal: ctx.signal,
    chainHead,
    verifier,
  }).finally(() => progress.close());
  for (const path of report.missing) ctx.log.error(`missing: ${path}`);
  const linked = new Set(report.linked);
  for (const path of report.changed) {
    ctx.log.error(
      `changed: ${path}${linked.has(path) ? " (a symbolic link: not the archived file; not followed)" : ""}`,
    );
  }
  for (const path of report.unknown) ctx.log.warn(`not in the manifest: ${path}`);
  logChain(ctx.log, report.chain, chainHead);
  const damaged = report.missing.length + report.changed.length;
  const repair = damaged > 0 ? repairCommand(ctx.options.profile, flags.out) : undefined;
  ctx.result.report({ ...report, ...(repair && { repair }) });
  const unknown =
    report.unknown.length > 0 ? `; ${report.unknown.length} audio files not in the manifest` : "";
  const problems: string[] = [];
  if (damaged > 0) {
    problems.push(
      `${damaged} of ${report.checked} recordings missing or changed (${report.missing.length} missing, ${report.changed.length} changed)`,
    );
  }
  if (chainFailed(report.chain)) problems.push("the manifest's hash chain does not hold (see above)");
  // The report ends with what brings the recordings back (a broken chain is no recording to fetch).
  const fix = repair ? `; fetch them again with: ${repair}` : "";
  if (problems.length > 0) throw new ArchiveDamagedError(`${problems.join("; ")}${unknown}${fix}`);
  ctx.log.info(`all ${report.checked} recordings intact${unknown}`);
}

/** The command that fetches back what is missing or changed, with the profile and `--out` as given. */
export function repairCommand(profile: string, out: string): string {
  const words = ["rc-recordings"];
  if (profile !== "default") words.push("--profile", shellWord(profile));
  words.push("download", "--repair", "--out", shellWord(out));
  return words.join(" ");
}

/** A word as a POSIX shell reads it back: as it is when it is plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/** A head is a SHA-256 in hex, as a run's `chainHead` prints it. */
function chainHeadOf(text: string): string {
  const head = text.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(head)) {
    throw new UsageError(`--chain-head "${text}": expected 64 hex digits (a run's chainHead)`);
  }
  return head;
}

function logChain(log: Logger, chain: ChainReport, chainHead: string | undefined): void {
  if (chain.broken) {
    const { line, recordingId, after, reason } = chain.broken;
    const what = recordingId ? `line ${line} (recording ${recordingId})` : `line ${line}`;
    const before = after
      ? `line ${after.line}${after.recordingId ? ` (recording ${after.recordingId})` : ""} or a line before it was changed, or lines were removed or inserted between them`
      : "a line before it was changed or removed";
    // An export's breaks name their file (its chain proof, or its manifest held against the proof).
    const { file } = chain.broken;
    if (file === undefined) log.error(`hash chain broken at manifest ${what}: ${reason}; ${before}`);
    else log.error(`hash chain broken at ${file} ${what}: ${reason}${after ? `; ${before}` : ""}`);
  }
  if (chain.headFound === false) {
    log.error(
      `the hash chain does not contain ${chainHead}: the manifest was cut short or rewritten after that head was recorded`,
    );
  }
  for (const { line, reason, file } of chain.checkpoints.problems) {
    log.error(
      line > 0
        ? `signed checkpoint at ${file ?? "manifest"} line ${line}: ${reason}`
        : `signed checkpoints: ${reason}`,
    );
  }
  if (chain.head === null) {
    log.warn("the manifest has no hash chain yet (written by an older version): the next download starts it");
    return;
  }
  const repairs = chain.repairs > 0 ? ` (${chain.repairs} repairs among them)` : "";
  if (!chain.broken) log.info(`hash chain intact: ${chain.records} records${repairs}, head ${chain.head}`);
  if (chain.checkpoints.count > 0 && !chain.checkpoints.verified) {
    log.info(`${chain.checkpoints.count} signed checkpoints not checked (give --public-key to check them)`);
  } else if (chain.checkpoints.verified && chain.checkpoints.problems.length === 0) {
    log.info(`${chain.checkpoints.count} signed checkpoints verified`);
  }
}
