import { createHash } from "node:crypto";

/**
 * The manifest's hash chain: every record after the chain's start carries, as `prev`, the SHA-256 of the record
 * before it, so changing, removing, inserting or reordering any line breaks the link of the line after it. The
 * hash of a record is the SHA-256 of its canonical JSON (`canonicalJson`); lines are written in that form, so a
 * record's hash is also the hash of its line's bytes. The last record's hash is the chain head: kept elsewhere
 * (the run's `--json` summary, a signed checkpoint), it also catches a manifest cut short or rewritten whole.
 *
 * Manifests written before the chain existed are upgraded once: their first chained record is a `chain-start`
 * whose `prev` is the SHA-256 of every earlier line (each with its "\n"), so those lines are covered as one block
 * from then on. See docs/proof.md for the auditor's view.
 */

/** The record that starts the chain (written once, before the first chained record). */
export interface ChainStart {
  record: "chain-start";
  version: 1;
  at: string;
  /** Lines of the manifest before the chain started (written by an older version), covered by `prev`. */
  priorLines: number;
  prev: string;
}

/** A record's fields besides its link: what `Manifest` appends. */
export type Unlinked = Record<string, unknown>;

/**
 * JSON with object keys sorted (by UTF-16 code unit, as RFC 8785) and no whitespace; undefined fields are left
 * out as JSON.stringify leaves them out. The same value always gives the same text, whoever wrote the line.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  const fields: string[] = [];
  for (const key of Object.keys(object).sort()) {
    if (object[key] !== undefined) fields.push(`${JSON.stringify(key)}:${canonicalJson(object[key])}`);
  }
  return `{${fields.join(",")}}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A manifest line parsed: the object, or undefined when it is no JSON object (hand-edited, foreign). */
export function parseRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The hash a line contributes to the chain: its record's canonical form, or its raw text when it is no record. */
function hashOf(line: string, record: Record<string, unknown> | undefined): string {
  return sha256Hex(record ? canonicalJson(record) : line);
}

/** The first place the chain does not hold, for the message and the `--json` report. */
export interface ChainBreak {
  /** 1-based line of the manifest in reading order (S3: across its objects, oldest first), or of `file`. */
  line: number;
  /** The file the line is in when it is not the manifest (an export's chain proof). */
  file?: string;
  /** The recording that line names, when it names one. */
  recordingId?: string;
  /** The line before it (and its recording), whose hash the link should be. */
  after?: { line: number; recordingId?: string };
  reason: string;
}

/** What reading the manifest found about its chain. */
export interface ChainState {
  /** The chain's start, once a line has started it. */
  start?: { line: number; at: string; priorLines: number };
  /** Hash of the last record read (undefined before the chain started). */
  head?: string;
  /** Records in the chain so far, the start included. */
  count: number;
}

/**
 * Follows the manifest's lines in order. `check: false` (a download opening the manifest) only learns what the
 * next append needs: the head, or the digest of the lines of an unchained manifest. `check: true` (`verify`)
 * also checks every link and stops checking at the first break.
 */
export class ChainReader {
  private lineNumber = 0;
  private readonly prior = createHash("sha256");
  private priorLines = 0;
  private start: ChainState["start"];
  private count = 0;
  /** The last chained line and its record (hashed only when needed, unless checking). */
  private last: { line: number; text: string; record: Record<string, unknown> | undefined } | undefined;
  private lastHash: string | undefined;
  private broken: ChainBreak | undefined;

  constructor(
    private readonly check: boolean,
    /** Called with the hash of each record in the chain while checking (to find a given head). */
    private readonly onRecord?: (hash: string, count: number) => void,
    /**
     * Reading an export's chain proof (chain-proof.ts): a line `{"omitted": HASH}` stands for a record of the
     * source that the export leaves out, known by its hash alone, and the lines before the chain's start may be
     * left out whole.
     */
    private readonly proof = false,
  ) {}

  /** Take the next line (blank lines count for numbering only); returns its record, if it is one. */
  read(text: string): Record<string, unknown> | undefined {
    this.lineNumber += 1;
    if (text.trim() === "") return undefined;
    const record = parseRecord(text);
    const omitted = this.proof && this.start !== undefined ? omittedHash(record) : undefined;
    if (omitted !== undefined) {
      // Its own link cannot be checked without its content; the next record's link binds its hash.
      this.link(text, undefined, omitted);
      return undefined;
    }
    if (this.start === undefined) {
      if (record?.record === "chain-start") this.startAt(text, record);
      else if (this.check && record && typeof record.prev === "string")
        this.fail(record, "it carries a chain link, but no chain start comes before it");
      else {
        this.prior.update(`${text}\n`);
        this.priorLines += 1;
      }
      return record;
    }
    if (this.check && this.broken === undefined) {
      const expected = this.head;
      if (record === undefined) this.fail(record, "it is not a JSON record");
      else if (typeof record.prev !== "string") this.fail(record, "it carries no chain link");
      else if (record.prev !== expected) this.fail(record, "its link is not the hash of the line before it");
    }
    this.link(text, record);
    return record;
  }

  /** Records in the chain so far. */
  get length(): number {
    return this.count;
  }

  /** The first break found (checking only). */
  get chainBreak(): ChainBreak | undefined {
    return this.broken;
  }

  /** Hash of the last record of the chain (computed once). */
  get head(): string | undefined {
    if (!this.last) return undefined;
    this.lastHash ??= hashOf(this.last.text, this.last.record);
    return this.lastHash;
  }

  state(): ChainState {
    const head = this.head;
    return { ...(this.start && { start: this.start }), ...(head && { head }), count: this.count };
  }

  /** The `prev` of a chain start written now: the digest of every line read so far. */
  priorDigest(): { prev: string; priorLines: number } {
    return { prev: this.prior.copy().digest("hex"), priorLines: this.priorLines };
  }

  private startAt(text: string, record: Record<string, unknown>): void {
    const leftOut = this.proof && this.priorLines === 0; // an export without the source's unchained lines
    if (this.check && !leftOut) {
      const { prev, priorLines } = this.priorDigest();
      if (record.prev !== prev || record.priorLines !== priorLines)
        this.fail(record, `the ${priorLines} lines before the chain's start are not the ones it covers`);
    }
    this.start = { line: this.lineNumber, at: String(record.at ?? ""), priorLines: this.priorLines };
    this.link(text, record);
  }

  private link(text: string, record: Record<string, unknown> | undefined, hash?: string): void {
    this.last = { line: this.lineNumber, text, record };
    this.lastHash = hash;
    this.count += 1;
    if (this.check && this.broken === undefined) this.onRecord?.(this.head as string, this.count);
  }

  private fail(record: Record<string, unknown> | undefined, reason: string): void {
    if (this.broken) return;
    const recordingId = typeof record?.recordingId === "string" ? record.recordingId : undefined;
    const before = this.last;
    const beforeId = typeof before?.record?.recordingId === "string" ? before.record.recordingId : undefined;
    this.broken = {
      line: this.lineNumber,
      ...(recordingId && { recordingId }),
      ...(before && { after: { line: before.line, ...(beforeId && { recordingId: beforeId }) } }),
      reason,
    };
  }
}

/** `{"omitted": HASH}`: a record an export's chain proof leaves out (no real record has that field). */
export function omittedLine(hash: string): string {
  return canonicalJson({ omitted: hash });
}

function omittedHash(record: Record<string, unknown> | undefined): string | undefined {
  if (record === undefined || Object.keys(record).length !== 1) return undefined;
  const hash = record.omitted;
  return typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

/**
 * The line to append after `head` (undefined: the chain's first record) and its hash. Lines are canonical, so
 * the hash of the line is the hash of the record.
 */
export function linkRecord(fields: Unlinked, prev: string): { line: string; hash: string } {
  const line = canonicalJson({ ...fields, prev });
  return { line, hash: sha256Hex(line) };
}

export function chainStart(prior: { prev: string; priorLines: number }, at: Date): ChainStart {
  return { record: "chain-start", version: 1, at: at.toISOString(), ...prior };
}
