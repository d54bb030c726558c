import { UsageError } from "../../errors.js";
import { wellFormed } from "../../well-formed.js";

/** Where an `--out s3://BUCKET[/PREFIX]` archive lives. */
export interface S3Location {
  bucket: string;
  /** "" or a key prefix ending in "/": object keys are `prefix + template path`. */
  prefix: string;
}

/** Whether `--out` names object storage rather than a folder (a folder called `s3:` needs `./s3:`). */
export function isS3Url(out: string): boolean {
  return /^s3:\/\//i.test(out);
}

/** S3's own bucket rules (3-63 characters: lower-case letters, digits, dots, hyphens; alphanumeric ends). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3 allows 1024 bytes per key; the template path needs most of them. */
const MAX_PREFIX_BYTES = 512;

/**
 * `s3://bucket`, `s3://bucket/`, `s3://bucket/a/b` or `s3://bucket/a/b/` → bucket and prefix. Anything else is a
 * usage error (exit 2) before any request: a typo must not become an object key somewhere unexpected.
 */
export function parseS3Url(out: string, flag = "--out"): S3Location {
  const bad = (why: string) => new UsageError(`${flag} ${JSON.stringify(out)}: ${why}`);
  if (!isS3Url(out)) throw bad("not an s3:// URL");
  const rest = out.slice("s3://".length);
  if (/[?#]/.test(rest)) throw bad("an s3:// URL has no query or fragment");
  const slash = rest.indexOf("/");
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash + 1);
  if (bucket === "") throw bad("names no bucket (expected s3://BUCKET[/PREFIX])");
  if (!BUCKET.test(bucket) || bucket.includes("..")) {
    throw bad(`${JSON.stringify(bucket)} is not a valid bucket name`);
  }
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  if (trimmed === "") return { bucket, prefix: "" };
  const segments = trimmed.split("/");
  for (const segment of segments) {
    if (segment === "") throw bad("the prefix has an empty folder name (//)");
    if (segment === "." || segment === "..") throw bad("the prefix must not contain . or .. folders");
    if (segment.startsWith(".rc-recordings")) throw bad("the prefix must not use the state folder's name");
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(trimmed)) throw bad("the prefix contains a control character or \\");
  if (Buffer.byteLength(trimmed, "utf8") > MAX_PREFIX_BYTES) {
    throw bad(`the prefix is longer than ${MAX_PREFIX_BYTES} bytes`);
  }
  if (wellFormed(trimmed) !== trimmed) throw bad("the prefix is not valid Unicode (a lone surrogate)");
  // Kept byte for byte as typed: S3 keys are bytes, and an archive whose prefix was spelled in NFD (as macOS file
  // names are) must keep finding its objects; normalising it silently wrote a second archive beside the first.
  return { bucket, prefix: `${trimmed}/` };
}

/** `s3://bucket/prefix/` for messages. */
export function describeLocation(location: S3Location): string {
  return `s3://${location.bucket}/${location.prefix}`;
}
