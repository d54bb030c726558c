/**
 * Far above any manifest line rc-recordings writes (a path of a few hundred bytes, a hash, ids, names: ~1 KB),
 * yet a bound on what one line may cost: a longer one is dropped as it streams, never gathered (a 30 MB line
 * cost 21 s and 440 MB when it was).
 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** How a manifest's bytes ended. */
export interface LinesEnd {
  /** Lines longer than MAX_LINE_BYTES, left out. */
  skipped: number;
  /** Offset just past the last newline: where a torn last line starts. */
  complete: number;
  /** Bytes read in all (more than `complete` when the last line has no newline). */
  total: number;
  /** The last line when it has no newline and is not too long. */
  unterminated: string | undefined;
}

/**
 * The lines of a manifest's bytes, each decoded whole (a chunk that ends inside a multi-byte character never
 * splits it); the generator's return value says how the bytes ended. Memory stays within one line of
 * MAX_LINE_BYTES whatever the input.
 */
export async function* manifestLines(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes = MAX_LINE_BYTES,
): AsyncGenerator<string, LinesEnd> {
  let offset = 0; // of the current chunk
  let complete = 0;
  let pieces: Buffer[] = [];
  let pending = 0; // bytes in pieces
  let oversized = false; // the current line is over the cap already: its bytes are dropped
  let skipped = 0;
  for await (const data of chunks) {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (oversized || pending + (nl - start) > maxBytes) skipped++;
      else {
        const tail = chunk.subarray(start, nl);
        yield (pieces.length > 0 ? Buffer.concat([...pieces, tail]) : tail).toString("utf8");
      }
      pieces = [];
      pending = 0;
      oversized = false;
      start = nl + 1;
      complete = offset + start;
    }
    const rest = chunk.subarray(start);
    if (!oversized && pending + rest.length > maxBytes) {
      oversized = true;
      pieces = [];
      pending = 0;
    } else if (!oversized && rest.length > 0) {
      // A copy: a source may reuse a chunk's buffer for the next one (Destination.read's folder reads do).
      pieces.push(Buffer.from(rest));
      pending += rest.length;
    }
    offset += chunk.length;
  }
  if (oversized) skipped++;
  const unterminated = pending > 0 ? Buffer.concat(pieces).toString("utf8") : undefined;
  return { skipped, complete, total: offset, unterminated };
}

/** The one warning for lines skipped as too long (`where`: the manifest's file or object). */
export function skippedLinesWarning(where: string, skipped: number): string {
  return `${where}: skipped ${skipped} line${skipped === 1 ? "" : "s"} longer than ${MAX_LINE_BYTES / 1024} KiB (not written by rc-recordings); their recordings count as not saved`;
}
