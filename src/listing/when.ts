import { UsageError } from "../errors.js";

/**
 * WHEN values of `--from`/`--to`:
 * - `now`;
 * - an ISO date `2026-11-01`: midnight UTC;
 * - an ISO date-time `2026-11-01T08:30`, `…T08:30:15.250`, with a zone (`Z`, `+01:00`) or without one, which
 *   means UTC (the call log speaks UTC; a cron job should not change meaning with the machine's time zone);
 *   a space may stand for the `T`;
 * - a duration before now: `90m`, `36h`, `7d`, `2w`.
 */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const RELATIVE = /^(\d{1,7})([mhdw])$/;
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function parseWhen(text: string, flag: string, now: Date = new Date()): Date {
  const value = text.trim();
  if (value.toLowerCase() === "now") return new Date(now.getTime());
  const relative = RELATIVE.exec(value);
  if (relative) {
    const [, amount, unit] = relative as unknown as [string, string, keyof typeof UNIT_MS];
    return new Date(now.getTime() - Number(amount) * UNIT_MS[unit]);
  }
  const date = parseIso(value);
  if (date) return date;
  throw new UsageError(
    `${flag} ${JSON.stringify(text)}: not a date; use e.g. 2026-11-01, 2026-11-01T08:30Z (no zone = UTC), or 36h, 7d, 90m, 2w (before now)`,
  );
}

function parseIso(value: string): Date | undefined {
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

const DURATION_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9]\d{0,6})([smhd])$/;

/**
 * A time box such as `--max-duration`: a whole number of seconds, minutes, hours or days (`30s`, `55m`, `2h`,
 * `1d`). Nothing else is accepted (no fractions, no combinations, no bare numbers), so a typo cannot silently
 * mean "seconds" in a cron line.
 */
export function parseDuration(text: string, flag: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: not a duration; use e.g. 30s, 55m, 2h or 1d`);
  }
  const [, amount, unit] = match as unknown as [string, string, keyof typeof DURATION_UNIT_MS];
  return Number(amount) * DURATION_UNIT_MS[unit];
}
