import { createHash } from "node:crypto";
import type { ApiClient } from "../api/types.js";
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
 * Proof that paging moves forward: every page is a new URI, starts with a record no earlier page started with,
 * and the count stays within the platform's limit; an empty page ends the paging. Only a short key per page is
 * kept (a URI and a digest). A page that breaks a rule is the reader's `incomplete(reason)` error: a verdict on
 * the listing, never retried (the same server answers the same way).
 */
export class PagingGuard {
  private readonly uris = new Map<string, number>();
  private readonly firstRecords = new Map<string, number>();
  private pages = 0;

  constructor(private readonly incomplete: (reason: string) => Error) {}

  check(page: BufferedPage, buffer: PageBuffer): asserts page is BufferedPage & { records: RecordSpan[] } {
    this.pages++;
    const n = this.pages;
    if (n > MAX_PAGES) throw this.incomplete(`more than ${MAX_PAGES} pages`);
    if (page.records === undefined) throw this.incomplete(`page ${n} (${page.path}) has no records array`);
    const uri = canonical(page.url);
    const again = this.uris.get(uri);
    if (again !== undefined) throw this.incomplete(`page ${n} repeats page ${again} (${page.path})`);
    this.uris.set(uri, n);
    const [first] = page.records;
    if (first === undefined) {
      if (page.next) throw this.incomplete(`page ${n} is empty but links a next page`);
      return;
    }
    const digest = createHash("sha256").update(buffer.bytesOf(first)).digest("base64");
    const same = this.firstRecords.get(digest);
    if (same !== undefined) {
      throw this.incomplete(`page ${n} starts with the same record as page ${same} (paging ignored)`);
    }
    this.firstRecords.set(digest, n);
  }
}

/** A URI with its query parameters in a fixed order, so a reordered link to the same page is the same page. */
function canonical(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.sort();
  parsed.hash = "";
  return parsed.href;
}
