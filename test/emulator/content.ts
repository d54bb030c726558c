import { createHash } from "node:crypto";

/**
 * Recording bytes are slices of one fixed pseudo-random 1 MiB pattern, read cyclically from a per-recording
 * offset: deterministic, never materialised (a 1 GiB recording is streamed as views into the pattern) and
 * fast to serve. The pattern is stored twice in a row so any slice up to 1 MiB is one contiguous view.
 */
export const PATTERN_SIZE = 1 << 20;

const doubledPattern: Buffer = (() => {
  const pattern = Buffer.allocUnsafe(PATTERN_SIZE);
  let x = 0x2545f491;
  for (let i = 0; i < PATTERN_SIZE; i += 4) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pattern.writeInt32LE(x | 0, i);
  }
  return Buffer.concat([pattern, pattern]);
})();

export interface ContentSource {
  patternOffset: number;
  bytes: number;
}

/** Views (no copies) covering bytes [start, end) of a recording, at most `chunkSize` (≤ 1 MiB) each. */
export function* contentChunks(
  source: ContentSource,
  start: number,
  end: number,
  chunkSize: number,
): Generator<Buffer> {
  const size = Math.min(chunkSize, PATTERN_SIZE);
  for (let pos = start; pos < end; ) {
    const at = (source.patternOffset + pos) % PATTERN_SIZE;
    const length = Math.min(size, end - pos);
    yield doubledPattern.subarray(at, at + length);
    pos += length;
  }
}

/** Bytes [start, end) of a recording as one Buffer (for tests; keep ranges small). */
export function contentSlice(source: ContentSource, start = 0, end = source.bytes): Buffer {
  return Buffer.concat([...contentChunks(source, start, Math.min(end, source.bytes), PATTERN_SIZE)]);
}

const digestCache = new Map<string, string>();

/** SHA-256 (hex) of a whole recording, computed by streaming the pattern; cached per offset+size. */
export function contentSha256(source: ContentSource): string {
  const key = `${source.patternOffset}:${source.bytes}`;
  const cached = digestCache.get(key);
  if (cached) return cached;
  const hash = createHash("sha256");
  for (const chunk of contentChunks(source, 0, source.bytes, PATTERN_SIZE)) hash.update(chunk);
  const digest = hash.digest("hex");
  digestCache.set(key, digest);
  return digest;
}
