import { UsageError } from "../errors.js";
import { Zone } from "../zone.js";

/**
 * WHEN values of `--from`/`--to`:
 * - `now`;
 * - an ISO date `2026-11-01`: midnight in the run's zone (--timezone; UTC by default);
 * - an ISO date-time `2026-11-01T08:30`, `…T08:30:15.250`, with a zone (`Z`, `+01:00`) or without one, which
 *   means the run's zone (never the machine's: a cron job should not change meaning with the host's settings);
 *   a space may stand for the `T`;
 * - a duration before now: `90m`, `36h`, `7d`, `2w`, `1d12h` (see parseSpan).
 */

const UNIT_MS = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
type Unit = keyof typeof UNIT_MS;
const UNITS = Object.keys(UNIT_MS) as Unit[];

/**
 * A span as people write it: whole numbers with units, largest first, each unit at most once (`90m`, `1h30m`,
 * `1d12h`, `2w`, `45s`); lower case (M could be read as months), no spaces inside. Nothing else (no fractions, no bare numbers), so a typo
 * cannot silently mean "seconds" in a cron line. Undefined when `text` is not one.
 */
export function parseSpan(text: string): number | undefined {
  const value = text.trim();
  const parts = /^(?:\d{1,7}[wdhms])+$/.test(value) ? value.match(/\d{1,7}[wdhms]/g) : null;
  if (!parts) return undefined;
  let total = 0;
  let previous = -1;
  for (const part of parts) {
    const unit = part.slice(-1) as Unit;
    const rank = UNITS.indexOf(unit);
    if (rank <= previous) return undefined; // 30m1h, 1h1h: surely a typo
    previous = rank;
    total += Number(part.slice(0, -1)) * UNIT_MS[unit];
  }
  return total;
}
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseWhen(text: string, flag: string, now: Date = new Date(), zone: Zone = Zone.UTC): Date {
  const value = text.trim();
  if (value.toLowerCase() === "now") return new Date(now.getTime());
  const before = parseSpan(value);
  if (before !== undefined) return new Date(now.getTime() - before);
  const date = parseIso(value, zone);
  if (date) return date;
  throw new UsageError(
    `${flag} ${JSON.stringify(text)}: not a date; use e.g. 2026-11-01, 2026-11-01T08:30Z (no zone = UTC), or 36h, 7d, 1d12h, 2w (before now)`,
  );
}

function parseIso(value: string, zone: Zone): Date | undefined {
  const m = ISO.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const ms = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const utc = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Reject what Date.UTC silently rolls over: 2026-02-30, 24:00, 10:60.
  const valid =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === (month as number) - 1 &&
    check.getUTCDate() === day &&
    check.getUTCHours() === hour &&
    check.getUTCMinutes() === minute &&
    check.getUTCSeconds() === second;
  if (!valid) return undefined;
  // No zone written: the wall clock of the run's zone (--timezone, UTC by default).
  if (m[8] === undefined) return zone.instant(utc);
  const offset = zoneOffsetMs(m[8]);
  return offset === undefined ? undefined : new Date(utc - offset);
}

/** `Z`/none → 0; `+01:00`/`-0530` → the offset east of UTC; nonsense (`+25:00`) → undefined. */
function zoneOffsetMs(zone: string | undefined): number | undefined {
  if (!zone || zone.toUpperCase() === "Z") return 0;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return undefined;
  return (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes) * 60_000;
}

/**
 * A time box such as `--max-duration`: a span above zero (`30s`, `55m`, `1h30m`, `1d12h`: see parseSpan).
 */
export function parseDuration(text: string, flag: string): number {
  const ms = parseSpan(text);
  if (ms === undefined || ms === 0) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: not a duration; use e.g. 30s, 55m, 1h30m or 1d12h`,
    );
  }
  return ms;
}
