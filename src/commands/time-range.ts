import { UsageError } from "../errors.js";
import { parseWhen } from "../listing/when.js";

/**
 * `--from`/`--to` of a command that lists the call log, checked before the network is touched (exit 2): `--to`
 * defaults to now and may not lie in the future (calls that have not happened cannot be listed, and a mark past
 * now would make later runs skip them); `--from`, when given, must come before it.
 */
export function timeRangeOf(
  flags: { from?: string | undefined; to?: string | undefined },
  now: Date,
): { from: Date | undefined; to: Date } {
  const to = flags.to === undefined ? now : parseWhen(flags.to, "--to", now);
  const from = flags.from === undefined ? undefined : parseWhen(flags.from, "--from", now);
  if (to.getTime() > now.getTime()) {
    throw new UsageError(
      `--to ${to.toISOString()} is in the future (now is ${now.toISOString()}); leave --to out to list up to now`,
    );
  }
  if (from && from.getTime() >= to.getTime()) {
    throw new UsageError(`--from ${from.toISOString()} is not before --to ${to.toISOString()}`);
  }
  return { from, to };
}
