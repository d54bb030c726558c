import { manifestLines } from "../destination/manifest-lines.js";
import { relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import { type ChainBreak, canonicalJson, omittedLine, parseRecord, sha256Hex } from "./chain.js";
import { ChainAudit, type ChainExpectations, type ChainReport, type ManifestAudit } from "./chain-audit.js";

/**
 * An export's chain proof (`chain-proof.jsonl` at the export's top level): the source manifest's hash chain from
 * its start up to its head, in which the records the export carries (its recordings, the runs' unsaved records
 * of its range), the chain's start and the signed checkpoints are their lines verbatim, and every other record is
 * `{"omitted": HASH}` — another call's data stays out, its hash keeps the chain's shape. A recipient follows it
 * like a manifest: each full record's link must be the hash of the line before it, checkpoints must sign the
 * chain before them, the last hash is the source's head. The export's own manifest must hold exactly the
 * recordings and unsaved records the proof holds in full. See docs/proof.md for what an omitted record cannot
 * show.
 */
export const CHAIN_PROOF_FILE = "chain-proof.jsonl";

/** Builds the proof line by line from the source manifest's chained lines. */
export class ChainProofBuilder {
  private readonly lines: string[] = [];

  /** A chained line of the source: kept verbatim (`full`) or as its hash. */
  add(text: string, record: Record<string, unknown> | undefined, full: boolean): void {
    this.lines.push(full ? text : omittedLine(hashOfLine(text, record)));
  }

  /** A line of the source from before its chain started: the chain's start covers those only all together. */
  addVerbatim(text: string): void {
    this.lines.push(text);
  }

  text(): string {
    return this.lines.map((line) => `${line}\n`).join("");
  }
}

/** The hash a line has in the chain (chain.ts: its record's canonical form, or its raw text). */
function hashOfLine(text: string, record: Record<string, unknown> | undefined): string {
  return sha256Hex(record ? canonicalJson(record) : text);
}

/** Records the export's manifest carries: recordings (no `record` field) and unsaved records. */
function isEvidence(record: Record<string, unknown>): boolean {
  return record.record === undefined || record.record === "unsaved";
}

/**
 * The chain proof of an export, followed; undefined when the destination holds none (an archive, not an export).
 * The result audits the export's manifest as `verify` reads it.
 */
export async function readChainProof(
  destination: Destination,
  expect: ChainExpectations,
): Promise<ManifestAudit | undefined> {
  const key = relPath(CHAIN_PROOF_FILE);
  if ((await destination.stat(key)) === undefined) return undefined;
  const audit = new ChainAudit(expect, true);
  /** Hash of each full evidence record of the proof → its line and recording. */
  const evidence = new Map<string, Evidence>();
  let line = 0;
  let chained = false;
  const take = (text: string) => {
    line += 1;
    const record = audit.read(text);
    if (record?.record === "chain-start") chained = true;
    if (record && isEvidence(record)) {
      const recordingId = typeof record.recordingId === "string" ? record.recordingId : undefined;
      evidence.set(hashOfLine(text, record), { line, chained, ...(recordingId && { recordingId }) });
    }
  };
  const lines = manifestLines(destination.read(key));
  for (let next = await lines.next(); ; next = await lines.next()) {
    if (!next.done) {
      take(next.value);
      continue;
    }
    // A last line without its newline still counts: dropping it would move the head unseen.
    if (next.value.unterminated !== undefined) take(next.value.unterminated);
    break;
  }
  return new ProofAudit(audit.report(), evidence);
}

interface Evidence {
  line: number;
  /**
   * After the chain's start. Lines from before it come as a block (its start covers them only together), so the
   * export's manifest need not carry each of them; every chained one it must.
   */
  chained: boolean;
  recordingId?: string;
}

/** The export's manifest held against its chain proof: the same evidence records, none changed, none missing. */
class ProofAudit implements ManifestAudit {
  private line = 0;
  private broken: ChainBreak | undefined;
  private readonly seen = new Set<string>();

  constructor(
    private readonly proof: ChainReport,
    private readonly evidence: ReadonlyMap<string, Evidence>,
  ) {}

  read(text: string): Record<string, unknown> | undefined {
    this.line += 1;
    if (text.trim() === "") return undefined;
    const record = parseRecord(text);
    const hash = hashOfLine(text, record);
    if (this.evidence.has(hash)) this.seen.add(hash);
    else {
      const recordingId = typeof record?.recordingId === "string" ? record.recordingId : undefined;
      this.broken ??= {
        line: this.line,
        file: "manifest",
        ...(recordingId && { recordingId }),
        reason: `it is not a record of the export's ${CHAIN_PROOF_FILE}: it was changed, or added after the export`,
      };
    }
    return record;
  }

  report(): ChainReport {
    const inProof = (found: ChainBreak | null) => found && { ...found, file: CHAIN_PROOF_FILE };
    const lost = [...this.evidence].find(([hash, e]) => e.chained && !this.seen.has(hash))?.[1];
    const removed: ChainBreak | undefined = lost && {
      line: lost.line,
      ...(lost.recordingId && { recordingId: lost.recordingId }),
      file: CHAIN_PROOF_FILE,
      reason: `${CHAIN_PROOF_FILE} holds its record but the export's manifest does not: it was removed from the export`,
    };
    return {
      ...this.proof,
      broken: inProof(this.proof.broken) ?? this.broken ?? removed ?? null,
      checkpoints: {
        ...this.proof.checkpoints,
        problems: this.proof.checkpoints.problems.map((p) => ({ ...p, file: CHAIN_PROOF_FILE })),
      },
    };
  }
}
