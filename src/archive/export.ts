import { createHash } from "node:crypto";
import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import { CliError, ExitCode, UsageError } from "../errors.js";
import { parseRecord } from "./chain.js";
import { ChainAudit, type ChainReport, chainFailed } from "./chain-audit.js";
import { CHAIN_PROOF_FILE, ChainProofBuilder } from "./chain-proof.js";
import { type ExportSummaryText, exportReadme } from "./export-readme.js";
import { type ManifestEntry, parseEntry } from "./manifest.js";
import { sidecarKeyOf } from "./sidecars.js";

/** Which recordings an export carries: call start in [from, to), and of these extensions when given. */
export interface ExportSelection {
  from?: Date | undefined;
  to: Date;
  /** Extension numbers (the manifest's `extensionNumber`); undefined: every extension. */
  extensions?: ReadonlySet<string> | undefined;
}

/** What `export` did: the `--json` result's body. */
export interface ExportReport {
  /** Recordings copied (each checked against the manifest's size and SHA-256 on the way). */
  exported: number;
  sidecars: number;
  bytes: number;
  /** The source chain's head the proof ends in. */
  chainHead: string;
  /** Recordings of the range the export could not carry: missing in the source, or not what the manifest says. */
  problems: { recordingId: string; path: string; problem: "missing" | "changed" }[];
}

/** The source archive does not hold what its manifest says (a broken chain, a changed recording): exit 3. */
export class SourceDamagedError extends CliError {
  readonly exitCode = ExitCode.partial;
}

const SUMS_FILE = "SHA256SUMS";
const README_FILE = "README.txt";

/**
 * Copy the recordings of `selection` from the archive `source` into the new, empty export folder `openTarget`
 * makes, with their sidecars, the manifest lines that describe them (verbatim, into the export's own manifest),
 * the chain proof up to the source's head (chain-proof.ts), SHA256SUMS and a README for the recipient, so that
 * `verify --out TARGET` (or `sha256sum -c`) checks the export on its own. The source is only read, and must be
 * idle and intact: its chain is followed first, and only then is the target made (a busy, missing or broken
 * archive leaves no folder behind).
 */
export async function exportArchive(
  source: Destination,
  openTarget: () => Promise<Destination>,
  selection: ExportSelection,
  options: { signal: AbortSignal; now?: Date; version: string; log: (line: string) => void },
): Promise<ExportReport> {
  await source.assertIdle();
  const scan = await scanSource(source, selection);
  options.signal.throwIfAborted();
  const target = await openTarget();
  const sums = new Map<RelPath, string>();
  const report: ExportReport = {
    exported: 0,
    sidecars: 0,
    bytes: 0,
    chainHead: scan.head,
    problems: [],
  };
  const carried = new Set<number>();
  for (const chosen of scan.chosen.values()) {
    options.signal.throwIfAborted();
    const { entry } = chosen;
    const copied = await copyObject(source, target, entry.path, entry.recordingId, entry.contentType);
    if (
      copied === undefined ||
      copied.bytes !== entry.bytes ||
      copied.sha256 !== entry.sha256?.toLowerCase()
    ) {
      const problem = copied === undefined ? "missing" : "changed";
      if (copied !== undefined) await target.remove(entry.path);
      report.problems.push({ recordingId: entry.recordingId, path: entry.path, problem });
      options.log(`${problem} in the source, not exported: ${entry.path} (recording ${entry.recordingId})`);
      continue;
    }
    sums.set(entry.path, copied.sha256);
    report.exported += 1;
    report.bytes += copied.bytes;
    carried.add(chosen.index);
    const sidecar = sidecarKeyOf(entry.path);
    const text = await readText(source, sidecar);
    if (text !== undefined) {
      await target.writeSmall(sidecar, text, "application/json", "evidence");
      sums.set(sidecar, sha256(text));
      report.sidecars += 1;
    }
  }
  for (const index of scan.unsaved) carried.add(index);

  // The manifest slice and the proof: a second read of the source, up to the line the first one checked.
  const proof = new ChainProofBuilder();
  const slice: string[] = [];
  let index = 0;
  for await (const text of manifestOf(source)) {
    if (index >= scan.lines) break;
    const at = index++;
    if (text.trim() === "") continue;
    if (at < scan.chainStart) {
      // Lines written before the chain existed are covered by its start as one block: all of them, or none.
      if (scan.priorNeeded) proof.addVerbatim(text);
      if (carried.has(at)) slice.push(text);
      continue;
    }
    const record = parseRecord(text);
    const kind = record?.record;
    const full = carried.has(at) || kind === "chain-start" || kind === "checkpoint";
    proof.add(text, record, full);
    if (carried.has(at)) slice.push(text);
  }
  const manifest = await target.state.openManifest({ writable: true });
  try {
    for (const line of slice) await manifest.append(`${line}\n`);
  } finally {
    await manifest.close();
  }
  const manifestText = slice.map((line) => `${line}\n`).join("");
  sums.set(relPath(".rc-recordings/manifest.jsonl"), sha256(manifestText));
  const proofText = proof.text();
  await target.writeSmall(relPath(CHAIN_PROOF_FILE), proofText, "application/x-ndjson", "derived");
  sums.set(relPath(CHAIN_PROOF_FILE), sha256(proofText));

  const readme = exportReadme({
    source: source.describe(),
    selection,
    exportedAt: (options.now ?? new Date()).toISOString(),
    version: options.version,
    report,
    chain: scan.chain,
    keys: scan.keys,
  } satisfies ExportSummaryText);
  await target.writeSmall(relPath(README_FILE), readme, "text/plain; charset=utf-8", "derived");
  sums.set(relPath(README_FILE), sha256(readme));
  const lines = [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, hash]) => sumsLine(hash, path));
  await target.writeSmall(relPath(SUMS_FILE), lines.join(""), "text/plain; charset=utf-8", "derived");
  return report;
}

/** What the first read of the source found: the chain checked, and which lines the export carries. */
interface SourceScan {
  chain: ChainReport;
  /** The chain's head (an archive without a chain is refused before). */
  head: string;
  /** Lines read (the second read stops there, should a download have appended since). */
  lines: number;
  /** 0-based line of the chain's start. */
  chainStart: number;
  /** Whether a carried recording is among the lines before the chain's start. */
  priorNeeded: boolean;
  /** The current line of each recording of the range, by recording id, in manifest order. */
  chosen: Map<string, { index: number; entry: ManifestEntry }>;
  /** Lines of unsaved records of the range (what runs listed but could not save: evidence too). */
  unsaved: number[];
  /** Fingerprints of the keys that signed checkpoints. */
  keys: string[];
}

async function scanSource(source: Destination, selection: ExportSelection): Promise<SourceScan> {
  const audit = new ChainAudit({});
  const chosen = new Map<string, { index: number; entry: ManifestEntry }>();
  const unsaved: number[] = [];
  const keys = new Set<string>();
  let lines = 0;
  let chainStart = -1;
  let any = false;
  for await (const text of manifestOf(source)) {
    const index = lines++;
    any = true;
    const record = audit.read(text);
    if (record === undefined) continue;
    if (record.record === "chain-start" && chainStart === -1) chainStart = index;
    if (record.record === "checkpoint" && typeof record.key === "string") keys.add(record.key);
    if (record.record === "unsaved" && inRange(record, selection)) unsaved.push(index);
    const entry = parseEntry(record);
    if (!entry) continue;
    chosen.delete(entry.recordingId); // a later line of a recording wins (and moves it to its place)
    if (inRange(entry, selection)) chosen.set(entry.recordingId, { index, entry });
  }
  const chain = audit.report();
  if (!any) throw new UsageError(`no archive in ${source.describe()}: it has no manifest (is --out right?)`);
  if (chain.head === null) {
    throw new UsageError(
      `${source.describe()}: its manifest has no hash chain yet (written by an older version); run a download first, which starts it`,
    );
  }
  if (chainFailed(chain)) {
    throw new SourceDamagedError(
      `${source.describe()}: its manifest's hash chain is broken at line ${chain.broken?.line}; nothing exported (run verify --out on it)`,
    );
  }
  const priorNeeded = [...chosen.values()].some((c) => c.index < chainStart);
  return {
    chain,
    head: chain.head,
    lines,
    chainStart,
    priorNeeded,
    chosen,
    unsaved,
    keys: [...keys],
  };
}

function inRange(
  record: { startTime?: unknown; extensionNumber?: unknown },
  selection: ExportSelection,
): boolean {
  const start = typeof record.startTime === "string" ? Date.parse(record.startTime) : Number.NaN;
  if (!Number.isFinite(start)) return false;
  if (selection.from && start < selection.from.getTime()) return false;
  if (start >= selection.to.getTime()) return false;
  if (!selection.extensions) return true;
  return typeof record.extensionNumber === "string" && selection.extensions.has(record.extensionNumber);
}

async function* manifestOf(source: Destination): AsyncGenerator<string> {
  const log = await source.state.openManifest({ writable: false });
  try {
    yield* log.lines();
  } finally {
    await log.close();
  }
}

/** Stream one object across, hashing on the way; undefined when the source has none. */
async function copyObject(
  source: Destination,
  target: Destination,
  key: RelPath,
  recordingId: string,
  contentType: string,
): Promise<{ bytes: number; sha256: string } | undefined> {
  if ((await source.stat(key)) === undefined) return undefined;
  const hash = createHash("sha256");
  let bytes = 0;
  const partial = await target.partials.open(key, { recordingId, contentType }, { resume: false });
  try {
    for await (const chunk of source.read(key)) {
      hash.update(chunk);
      bytes += chunk.length;
      await partial.append(chunk);
    }
    await partial.commit();
  } catch (error) {
    await partial.abort().catch(() => undefined);
    throw error;
  }
  await target.partials.drop(recordingId);
  return { bytes, sha256: hash.digest("hex") };
}

async function readText(source: Destination, key: RelPath): Promise<string | undefined> {
  if ((await source.stat(key)) === undefined) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of source.read(key)) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * One line of a `sha256sum` list: `HASH  PATH`. A name with a backslash or a line break is written the way GNU
 * sha256sum writes it (a leading backslash, those characters escaped), so `sha256sum -c` reads it back.
 */
function sumsLine(hash: string, path: string): string {
  if (!/[\\\n]/.test(path)) return `${hash}  ${path}\n`;
  const escaped = path.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return `\\${hash}  ${escaped}\n`;
}
