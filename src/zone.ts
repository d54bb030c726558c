import { UsageError } from "./errors.js";
import { didYouMean } from "./suggest.js";

/**
 * `--timezone ZONE` (IANA, e.g. America/Los_Angeles): the zone in which names, index dates and --from/--to dates
 * are read and written. UTC by default, so archives made before the flag keep their names. Intl only: Node
 * carries the full time-zone database (no dependency, and it follows the runtime's tzdata updates).
 */
export interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

export class Zone {
  private readonly format: Intl.DateTimeFormat;

  private constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  static readonly UTC = new Zone("UTC");

  /** An IANA name (any case) → its zone; an unknown one is exit 2 with one line naming the nearest. */
  static parse(text: string, flag = "--timezone"): Zone {
    const name = text.trim();
    try {
      const canonical = new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
      return canonical === "UTC" ? Zone.UTC : new Zone(canonical);
    } catch {
      throw new UsageError(
        `${flag} ${JSON.stringify(text)}: not a time zone; use an IANA name such as Europe/Berlin or America/Los_Angeles${didYouMean(name, Intl.supportedValuesOf("timeZone"))}`,
      );
    }
  }

  /** The wall clock in this zone at `at`, each field zero-padded. */
  wall(at: Date): WallClock {
    const parts: Record<string, string> = {};
    for (const part of this.format.formatToParts(at)) parts[part.type] = part.value;
    return {
      year: parts.year ?? "",
      month: parts.month ?? "",
      day: parts.day ?? "",
      hour: parts.hour ?? "",
      minute: parts.minute ?? "",
      second: parts.second ?? "",
    };
  }

  /** Milliseconds this zone is ahead of UTC at `at`. */
  offsetAt(at: number): number {
    const w = this.wall(new Date(at));
    const asUtc = Date.UTC(+w.year, +w.month - 1, +w.day, +w.hour, +w.minute, +w.second);
    return asUtc - Math.floor(at / 1000) * 1000;
  }

  /**
   * The instant a wall-clock time names here (`wallUtcMs`: that wall clock read as if it were UTC). A time that
   * occurs twice (the hour the clocks go back) is its first occurrence; one that never occurs (the hour they
   * skip) is read with the offset found near it.
   */
  instant(wallUtcMs: number): Date {
    // The offset near that moment, then the offset at the result: one of the two names the wall clock asked for.
    const candidates = [wallUtcMs - this.offsetAt(wallUtcMs)];
    candidates.push(wallUtcMs - this.offsetAt(candidates[0] as number));
    for (const shift of [-3_600_000, 3_600_000]) candidates.push((candidates[0] as number) + shift);
    const exact = candidates.filter((at) => at + this.offsetAt(at) === wallUtcMs);
    return new Date(exact.length > 0 ? Math.min(...exact) : (candidates[0] as number));
  }

  /** `2026-11-25 13:30:05` in this zone (no milliseconds), with the zone's name unless it is UTC. */
  human(at: Date): string {
    const w = this.wall(at);
    const text = `${w.year}-${w.month}-${w.day} ${w.hour}:${w.minute}:${w.second}`;
    return this === Zone.UTC ? `${text} UTC` : `${text} (${this.name})`;
  }
}
