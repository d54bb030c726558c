import type { Readable } from "node:stream";
import { OperationError } from "../errors.js";

/**
 * A call-log page (`{"records":[{...},...],"navigation":{...}}`) read into one reused buffer and split without
 * parsing it whole: each record is parsed from its bytes when the listing yields it. A page held as text or as
 * parsed objects (~1 MB and ~3 MB) lives across several young-generation collections while it is read and its
 * recordings are handled; V8 counts it as surviving data and grows the young generation to its maximum, which
 * cost ~30 MiB of peak memory on a long listing. Bytes outside the JS heap, written into the same buffer page
 * after page, survive nothing.
 */
export class PageBuffer {
  private bytes = Buffer.allocUnsafe(1024 * 1024);
  private length = 0;

  /**
   * `maxBytes`: a body that grows past this is refused (a server streaming without end must not fill memory);
   * `what` names such a page in the error.
   */
  constructor(
    private readonly maxBytes = MAX_PAGE_BYTES,
    private readonly what = "call-log page",
  ) {}

  /** Replace the content with the whole body; PageTooLargeError (body left unread) past `maxBytes`. */
  async fill(body: Readable): Promise<void> {
    this.length = 0;
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      if (this.length + bytes.length > this.maxBytes) {
        body.destroy();
        throw new PageTooLargeError(this.what, this.maxBytes);
      }
      this.reserve(this.length + bytes.length);
      bytes.copy(this.bytes, this.length);
      this.length += bytes.length;
    }
  }

  /** Where the records are, and the rest of the page. Throws SyntaxError when the page is not JSON. */
  split(): SplitPage {
    const span = recordsSpan(this.bytes, this.length);
    if (!span) return { records: undefined, rest: JSON.parse(this.text(0, this.length)) };
    const rest: unknown = JSON.parse(this.text(0, span.open + 1) + this.text(span.close, this.length));
    return { records: span.records, rest };
  }

  /** One record of the last `split`, valid until the next `fill`. Throws SyntaxError when it is not JSON. */
  parse(record: RecordSpan): unknown {
    return JSON.parse(this.text(record.start, record.end));
  }

  /** The raw bytes of one record of the last `split` (a view, valid until the next `fill`). */
  bytesOf(record: RecordSpan): Buffer {
    return this.bytes.subarray(record.start, record.end);
  }

  private text(start: number, end: number): string {
    return this.bytes.toString("utf8", start, end);
  }

  private reserve(size: number): void {
    if (size <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(size, this.bytes.length * 2)));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }
}

/**
 * A 1000-record Detailed page is ~2 MB; 16 MiB leaves room for records with many legs and long names, while a
 * page far larger than any real one is refused before it costs memory: a 50 MB page peaked at 413 MB RSS under
 * the former 64 MiB cap (the buffer, its doubling copies and the records parsed from it).
 */
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** The body grew past the cap. Not worth retrying: the same server sends the same body again. */
export class PageTooLargeError extends OperationError {
  constructor(
    what: string,
    readonly maxBytes: number,
  ) {
    super(`a ${what} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`);
  }
}

export interface RecordSpan {
  start: number;
  /** Exclusive. */
  end: number;
}

export interface SplitPage {
  /** Where each object of the top-level `records` array is, in order; undefined when there is no such array. */
  records: RecordSpan[] | undefined;
  /** The rest of the page, parsed, with `records` emptied (navigation, paging). */
  rest: unknown;
}

// JSON's structural characters are ASCII, and no byte of a multi-byte UTF-8 sequence is: bytes can be scanned.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const RECORDS = Buffer.from("records");

interface RecordsSpan {
  /** Index of the `[` and of the `]` of the top-level `records` array. */
  open: number;
  close: number;
  records: RecordSpan[];
}

/** One pass, tracking strings and nesting; undefined when there is no top-level `records` array. */
function recordsSpan(bytes: Buffer, length: number): RecordsSpan | undefined {
  let depth = 0;
  let recordsKey = false; // the last string at depth 1 was the key "records"
  let open = -1;
  let recordStart = -1;
  const records: RecordSpan[] = [];
  for (let i = 0; i < length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i, length);
      if (depth === 1) {
        recordsKey =
          end - i - 1 === RECORDS.length &&
          bytes.compare(RECORDS, 0, RECORDS.length, i + 1, end) === 0 &&
          nextNonSpace(bytes, end + 1, length) === COLON;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === 1 && c === OPEN_ARRAY && recordsKey && open === -1) open = i;
      else if (depth === 2 && c === OPEN_OBJECT && open !== -1 && recordStart === -1) recordStart = i;
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 2 && recordStart !== -1) {
        records.push({ start: recordStart, end: i + 1 });
        recordStart = -1;
      } else if (depth === 1 && open !== -1 && c === CLOSE_ARRAY) {
        return { open, close: i, records };
      }
    }
  }
  return undefined;
}

function stringEnd(bytes: Buffer, quote: number, length: number): number {
  for (let i = quote + 1; i < length; i++) {
    const c = bytes[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  throw new SyntaxError("Unterminated string in JSON");
}

function nextNonSpace(bytes: Buffer, from: number, length: number): number {
  for (let i = from; i < length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return c ?? -1;
  }
  return -1;
}
