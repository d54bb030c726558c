import type { ApiClient } from "../api/types.js";
import { PageProgress } from "../page-progress.js";
import type { PageBuffer, RecordSpan } from "./page-buffer.js";

/**
 * Paged reads of the platform (`records` + `navigation.nextPage`: the call log, the extension directory) that
 * must prove their end. A page is read into the reader's PageBuffer (its size is capped there, so a body that
 * never ends stops at the cap) and its records stay bytes until they are used.
 */

/** A page whose records are still bytes in the reader's PageBuffer. */
export interface BufferedPage {
  /** Undefined when the page has no `records` array (a malformed page). */
  records: RecordSpan[] | undefined;
  /** The next page's URI, absolute. */
  next: string | undefined;
  /** The URL that answered (after redirects). */
  url: string;
  /** The request's path, for errors. */
  path: string;
}

/** The platform serves at most this many pages of one query (perPage 1000: a million records). */
export const MAX_PAGES = 1000;

/** Read one page into `buffer` (which caps its size). */
export function fetchPage(api: ApiClient, buffer: PageBuffer, url: string): Promise<BufferedPage> {
  return api.getJsonWith(url, undefined, async (response) => {
    await buffer.fill(response.body);
    const { records, rest } = buffer.split();
    const next = (rest as { navigation?: { nextPage?: { uri?: unknown } } } | null)?.navigation?.nextPage
      ?.uri;
    const here = new URL(response.url || url, "http://invalid");
    return {
      records,
      next: typeof next === "string" && next !== "" ? new URL(next, here).href : undefined,
      url: here.href,
      path: here.pathname,
    };
  });
}

/**
 * Proof that paging moves forward (the rules of PageProgress: no page twice, no page that starts like an earlier
 * one, at most MAX_PAGES) plus the platform's own: a page has a `records` array, and an empty page ends the
 * paging.
 */
export class PagingGuard {
  private readonly progress: PageProgress;

  constructor(private readonly incomplete: (reason: string) => Error) {
    this.progress = new PageProgress(MAX_PAGES, incomplete);
  }

  check(page: BufferedPage, buffer: PageBuffer): asserts page is BufferedPage & { records: RecordSpan[] } {
    const n = this.progress.next();
    if (page.records === undefined) throw this.incomplete(`page ${n} (${page.path}) has no records array`);
    const [first] = page.records;
    this.progress.check(n, canonical(page.url), first && buffer.bytesOf(first), page.path);
    if (first === undefined && page.next) throw this.incomplete(`page ${n} is empty but links a next page`);
  }
}

/** A URI with its query parameters in a fixed order, so a reordered link to the same page is the same page. */
function canonical(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.sort();
  parsed.hash = "";
  return parsed.href;
}
