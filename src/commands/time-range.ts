import { UsageError } from "../errors.js";
import { parseWhen } from "../listing/when.js";
import { Zone } from "../zone.js";

/**
 * `--from`/`--to` of a command that lists the call log, checked before the network is touched (exit 2): `--to`
 * defaults to now and may not lie in the future (calls that have not happened cannot be listed, and a mark past
 * now would make later runs skip them); `--from`, when given, must come before it.
 */
export function timeRangeOf(
  flags: { from?: string | undefined; to?: string | undefined },
  now: Date,
  /** The zone of dates written without one (--timezone), and of the times in the error lines. */
  zone: Zone = Zone.UTC,
): { from: Date | undefined; to: Date } {
  const to = flags.to === undefined ? now : parseWhen(flags.to, "--to", now, zone);
  const from = flags.from === undefined ? undefined : parseWhen(flags.from, "--from", now, zone);
  if (to.getTime() > now.getTime()) {
    throw new UsageError(
      `--to ${zone.human(to)} is in the future (now is ${zone.human(now)}); leave --to out to list up to now`,
    );
  }
  if (from && from.getTime() >= to.getTime()) {
    throw new UsageError(`--from ${zone.human(from)} is not before --to ${zone.human(to)}`);
  }
  return { from, to };
}
