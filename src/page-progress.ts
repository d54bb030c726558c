import { createHash } from "node:crypto";

/**
 * Proof that a paged read moves forward, whatever is paged (the platform's `navigation.nextPage`, an S3
 * listing's continuation token): every page is read from a place no earlier page was read from (no repeat, no
 * cycle), starts with an item no earlier page started with (a server that ignores the place it is asked for
 * answers the same first page under fresh names), and there are at most `maxPages`. Only a digest per page is
 * kept, so a long listing costs a few bytes a page. A page that breaks a rule is the reader's `incomplete(reason)`
 * error: a verdict on the listing, never retried (the same server answers the same way).
 */
export class PageProgress {
  private readonly places = new Map<string, number>();
  private readonly firsts = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly maxPages: number,
    private readonly incomplete: (reason: string) => Error,
  ) {}

  /** The pages seen so far. */
  get pages(): number {
    return this.count;
  }

  /** Count a page before it is used: throws when there are more than `maxPages`; returns its number (1-based). */
  next(): number {
    this.count += 1;
    if (this.count > this.maxPages) throw this.incomplete(`more than ${this.maxPages} pages`);
    return this.count;
  }

  /**
   * The page numbered `n` was read from `place` (a canonical URI, a continuation token; `where` names it in the
   * error) and starts with `first` (undefined: an empty page).
   */
  check(n: number, place: string, first: Uint8Array | string | undefined, where: string): void {
    const again = remember(this.places, place, n);
    if (again !== undefined) throw this.incomplete(`page ${n} repeats page ${again} (${where})`);
    if (first === undefined) return;
    const same = remember(this.firsts, first, n);
    if (same !== undefined) {
      throw this.incomplete(`page ${n} starts with the same record as page ${same} (paging ignored)`);
    }
  }
}

/** The page that already had this value, or undefined after remembering it for page `n`. */
function remember(seen: Map<string, number>, value: Uint8Array | string, n: number): number | undefined {
  const digest = createHash("sha256").update(value).digest("base64");
  const earlier = seen.get(digest);
  if (earlier === undefined) seen.set(digest, n);
  return earlier;
}
