/**
 * Half of a UTF-16 surrogate pair without its other half. JavaScript strings (and JSON from a server) may hold
 * one; no encoding can write it, so it fails wherever text must become bytes strictly (an S3 key, a URL:
 * "URI malformed").
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` with every lone surrogate replaced by `replacement` (U+FFFD, the replacement character, by default). */
export function wellFormed(text: string, replacement = "\uFFFD"): string {
  return text.replace(LONE_SURROGATE, replacement);
}
