import { compileTemplate, type NameTemplate } from "../archive/naming.js";
import type { CommandContext } from "../context.js";
import type { Destination, ObjectLockRequest } from "../destination/types.js";
import { UsageError } from "../errors.js";
import type { CallLogScope, RecordingTypeFilter } from "../listing/call-log.js";
import { CallLogSource } from "../listing/call-log-source.js";
import { Zone } from "../zone.js";

/** `--from`/`--to` as commander hands them over (archive-options.ts addRangeOptions; parsed by time-range.ts). */
export interface RangeFlags {
  from?: string;
  to?: string;
}

/** The options commander hands over for the archive flags (declared in archive-options.ts). */
export interface ArchiveFlags {
  out: string;
  scope?: CallLogScope;
  type: RecordingTypeFilter;
  /** A whole number ≥ 1 (commander's positiveInt has checked it). */
  concurrency: number;
  /** `--extension N`, repeatable: only these extension numbers' recordings (account scope). */
  extension?: string[];
  template?: string;
  /** `--timezone` (or RC_RECORDINGS_TIMEZONE): an IANA name, checked here; default UTC. */
  timezone?: string;
  metadata: boolean;
  /** `--signing-key FILE`: an Ed25519 private key (PEM) that signs a checkpoint of the manifest's chain. */
  signingKey?: string;
  /** `--object-lock-days N` (commander's parser has checked it), `--object-lock-mode`, `--legal-hold`. */
  objectLockDays?: number;
  objectLockMode?: "governance" | "compliance";
  legalHold: boolean;
}

/** The archive flags, checked before the network is touched (exit 2 with one line). */
export interface ArchiveShape {
  zone: Zone;
  template: NameTemplate;
  /** `--extension` numbers, deduplicated; undefined: every extension. */
  extensionNumbers: string[] | undefined;
}

export function zoneOf(flags: Pick<ArchiveFlags, "timezone">): Zone {
  return flags.timezone === undefined ? Zone.UTC : Zone.parse(flags.timezone);
}

export function archiveShape(ctx: CommandContext, flags: ArchiveFlags, zone = zoneOf(flags)): ArchiveShape {
  const extensionNumbers = extensionFilter(flags);
  const template = compileTemplate(flags.template, zone);
  if (!template.hasExt) {
    ctx.log.warn(
      `--template ${JSON.stringify(flags.template)} has no {ext}: files get no extension, so players cannot tell WAV from MP3; end it with .{ext}`,
    );
  }
  return { zone, template, extensionNumbers };
}

/** The call log as these flags select it, from `from` (undefined: the incremental mark) to `to`. */
export function archiveSource(
  ctx: CommandContext,
  flags: ArchiveFlags,
  shape: ArchiveShape,
  span: { from: Date | undefined; to: Date | (() => Date); timeBoxed: boolean },
): CallLogSource {
  return new CallLogSource({
    ...span,
    type: flags.type,
    raw: flags.metadata,
    scope: flags.scope,
    extensionNumbers: shape.extensionNumbers,
    log: ctx.log,
  });
}

/** `--out`, with what `--object-lock-*` and `--legal-hold` ask of it (an S3 bucket; a folder refuses them). */
export function openArchiveDestination(
  ctx: CommandContext,
  flags: ArchiveFlags,
  endBy?: AbortSignal,
): Promise<Destination> {
  return ctx.factory.destination(flags.out, {
    objectLock: objectLockOf(flags),
    log: (line) => ctx.log.info(line),
    endBy,
  });
}

/** What `--object-lock-*` and `--legal-hold` ask of an S3 destination (docs/proof.md), or undefined. */
function objectLockOf(flags: ArchiveFlags): ObjectLockRequest | undefined {
  if (flags.objectLockMode !== undefined && flags.objectLockDays === undefined) {
    throw new UsageError("--object-lock-mode needs --object-lock-days N (how long each recording is kept)");
  }
  const retention = flags.objectLockDays !== undefined && {
    // Governance by default: compliance cannot be shortened or lifted by anyone, root included, so it must be chosen.
    mode: flags.objectLockMode === "compliance" ? ("COMPLIANCE" as const) : ("GOVERNANCE" as const),
    days: flags.objectLockDays,
  };
  if (!retention && !flags.legalHold) return undefined;
  return { ...(retention && { retention }), legalHold: flags.legalHold };
}

/** `--extension` numbers, deduplicated; they filter the account call log, so `--scope extension` excludes them. */
function extensionFilter(flags: ArchiveFlags): string[] | undefined {
  if (!flags.extension?.length) return undefined;
  if (flags.scope === "extension") {
    throw new UsageError(
      "--extension filters the account-wide call log; it cannot be used with --scope extension",
    );
  }
  return [...new Set(flags.extension)];
}
