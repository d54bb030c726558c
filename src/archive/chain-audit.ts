import { type ChainBreak, ChainReader } from "./chain.js";
import type { CheckpointVerifier } from "./checkpoint.js";

/** What `verify` says about the manifest's chain (part of its `--json` report). */
export interface ChainReport {
  /** Records in the chain (its start, recordings, checkpoints, unsaved records, repairs). */
  records: number;
  /** Repair records (`download --repair`: a recording fetched again, its old and new SHA-256). */
  repairs: number;
  /** Hash of the last record; null when the manifest has no chain yet (written by an older version). */
  head: string | null;
  /** Where the chain starts, and how many older lines its start covers as one block. */
  start: { line: number; at: string; priorLines: number } | null;
  /** The first line whose link does not hold; null when the whole chain holds. */
  broken: ChainBreak | null;
  /** `--chain-head H`: whether H is the hash of a record of the intact chain. */
  headFound?: boolean;
  /** Signed checkpoints seen; `verified` when `--public-key` was given and each was checked. */
  checkpoints: { count: number; verified: boolean; problems: CheckpointProblem[] };
}

/** A checkpoint that does not hold: its line (0: none at all), in `file` when that is not the manifest. */
export interface CheckpointProblem {
  line: number;
  file?: string;
  reason: string;
}

/** What the chain must show besides its links: a head kept elsewhere, checkpoints signed by a key. */
export interface ChainExpectations {
  chainHead?: string | undefined;
  verifier?: CheckpointVerifier | undefined;
}

/** Follows the manifest's lines as `verify` reads them, and says what it found. */
export interface ManifestAudit {
  read(text: string): Record<string, unknown> | undefined;
  report(): ChainReport;
}

/**
 * Follows the chain while `verify` reads the manifest: every link (ChainReader), the checkpoints against the
 * public key, and whether an expected head occurs.
 */
export class ChainAudit implements ManifestAudit {
  private readonly reader: ChainReader;
  private line = 0;
  private headFound = false;
  private checkpoints = 0;
  private repairs = 0;
  private readonly problems: CheckpointProblem[] = [];

  constructor(
    private readonly expect: ChainExpectations,
    /** Reading an export's chain proof rather than a manifest (see ChainReader). */
    proof = false,
  ) {
    const wanted = expect.chainHead?.toLowerCase();
    this.reader = new ChainReader(
      true,
      (hash) => {
        if (hash === wanted) this.headFound = true;
      },
      proof,
    );
  }

  /** Take the next manifest line; returns its record. */
  read(text: string): Record<string, unknown> | undefined {
    this.line += 1;
    const before = { head: this.reader.head, count: this.reader.length };
    const record = this.reader.read(text);
    if (record?.record === "repair" && this.reader.length > before.count) this.repairs += 1;
    if (record?.record === "checkpoint" && this.reader.length > before.count) {
      this.checkpoints += 1;
      const problem = this.expect.verifier?.problem(record, before);
      if (problem) this.problems.push({ line: this.line, reason: problem });
    }
    return record;
  }

  report(): ChainReport {
    const { start, head, count } = this.reader.state();
    const verifier = this.expect.verifier;
    if (verifier && this.checkpoints === 0)
      this.problems.push({ line: 0, reason: "the manifest holds no signed checkpoint" });
    return {
      records: count,
      repairs: this.repairs,
      head: head ?? null,
      start: start ?? null,
      broken: this.reader.chainBreak ?? null,
      ...(this.expect.chainHead !== undefined && { headFound: this.headFound }),
      checkpoints: { count: this.checkpoints, verified: verifier !== undefined, problems: this.problems },
    };
  }
}

/** Whether the chain report shows a problem that makes `verify` fail (exit 3). */
export function chainFailed(chain: ChainReport): boolean {
  return chain.broken !== null || chain.headFound === false || chain.checkpoints.problems.length > 0;
}
