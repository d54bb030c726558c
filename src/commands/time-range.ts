import type { ApiClient } from "../api/types.js";
import { UsageError } from "../errors.js";
import {
  DEFAULT_RETENTION,
  type PlatformRetention,
  readRetention,
  retentionEdge,
} from "../listing/retention.js";
import { parseWhen } from "../listing/when.js";
import type { Logger } from "../log/logger.js";
import { Zone } from "../zone.js";

/** `--from retention`: everything the platform still keeps (the account's retention period before now). */
export const FROM_RETENTION = "retention";

/** `--from`: a time, or the retention edge, which only the account can tell (after the login). */
export type FromWhen = Date | typeof FROM_RETENTION;

/**
 * `--from`/`--to` of a command that lists the call log, checked before the network is touched (exit 2): `--to`
 * defaults to now and may not lie in the future (calls that have not happened cannot be listed, and a mark past
 * now would make later runs skip them); `--from`, when given, must come before it. `--from retention` is
 * resolved later (`resolveFrom`).
 */
export function timeRangeOf(
  flags: { from?: string | undefined; to?: string | undefined },
  now: Date,
  /** The zone of dates written without one (--timezone), and of the times in the error lines. */
  zone: Zone = Zone.UTC,
): { from: FromWhen | undefined; to: Date } {
  const to = flags.to === undefined ? now : parseWhen(flags.to, "--to", now, zone);
  if (to.getTime() > now.getTime()) {
    throw new UsageError(
      `--to ${zone.human(to)} is in the future (now is ${zone.human(now)}); leave --to out to list up to now`,
    );
  }
  if (flags.from?.trim().toLowerCase() === FROM_RETENTION) return { from: FROM_RETENTION, to };
  const from = flags.from === undefined ? undefined : parseWhen(flags.from, "--from", now, zone);
  checkOrder(from, to, zone);
  return { from, to };
}

function checkOrder(from: Date | undefined, to: Date, zone: Zone): void {
  if (from && from.getTime() >= to.getTime()) {
    throw new UsageError(`--from ${zone.human(from)} is not before --to ${zone.human(to)}`);
  }
}

/**
 * `--from` as a time, once the login works: `retention` becomes the account's retention edge (read with one
 * Light request; RingCentral's defaults when the account does not say), and a `--from` older than the platform
 * keeps costs one warning (the account is asked only then). Returns the retention when it was read.
 */
export async function resolveFrom(
  range: { from: FromWhen | undefined; to: Date },
  options: { api: ApiClient; now: Date; zone: Zone; signal: AbortSignal; log: Logger },
): Promise<{ from: Date | undefined; retention: PlatformRetention | undefined }> {
  const { from, to } = range;
  const { now, zone, log } = options;
  const read = () => readRetention(options.api, options);
  if (from === FROM_RETENTION) {
    const retention = await read();
    const edge = retentionEdge(retention, now);
    log.info(
      `--from retention: ${zone.human(edge)}, ${retention.days} days before now (${retention.fromAccount ? "the account's retention" : "the default"})`,
    );
    checkOrder(edge, to, zone);
    return { from: edge, retention };
  }
  if (from === undefined || from.getTime() >= retentionEdge(DEFAULT_RETENTION, now).getTime()) {
    return { from, retention: undefined };
  }
  const retention = await read();
  warnBeforeRetention(from, retention, { now, zone, log });
  return { from, retention };
}

/** One warning when `from` is older than the platform keeps: the days before its retention edge list nothing. */
export function warnBeforeRetention(
  from: Date,
  retention: PlatformRetention,
  { now, zone, log }: { now: Date; zone: Zone; log: Logger },
): void {
  if (from.getTime() >= retentionEdge(retention, now).getTime()) return;
  log.warn(
    `--from ${zone.human(from)} is more than ${retention.days} days ago; the platform keeps recordings for ${retention.days} days (--from retention starts there)`,
  );
}
