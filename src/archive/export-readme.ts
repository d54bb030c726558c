import type { ChainReport } from "./chain-audit.js";
import { CHAIN_PROOF_FILE } from "./chain-proof.js";

/** What the recipient's README says about one export (export.ts hands in its selection and report). */
export interface ExportSummaryText {
  source: string;
  selection: { from?: Date | undefined; to: Date; extensions?: ReadonlySet<string> | undefined };
  exportedAt: string;
  version: string;
  report: {
    exported: number;
    sidecars: number;
    bytes: number;
    problems: readonly { recordingId: string; path: string; problem: string }[];
  };
  chain: ChainReport;
  /** Fingerprints (SHA-256 of the public key, DER) of the keys that signed the source's checkpoints. */
  keys: readonly string[];
}

/**
 * README.txt of an export: for someone who may not have rc-recordings — what is inside, and how to check it with
 * the tool or with `sha256sum` and a few lines of Python.
 */
export function exportReadme(s: ExportSummaryText): string {
  const { selection, report, chain } = s;
  const range = `${selection.from ? selection.from.toISOString() : "the first archived call"} up to ${selection.to.toISOString()} (call start times, UTC)`;
  const extensions = selection.extensions ? [...selection.extensions].join(", ") : "all";
  const signed =
    chain.checkpoints.count > 0
      ? `${chain.checkpoints.count}, signed by the key with fingerprint ${s.keys.join(", ")}`
      : "none (the archive was not signed)";
  const problems = report.problems.map(
    (p) => `  - ${p.path} (recording ${p.recordingId}): ${p.problem} in the archive`,
  );
  return `${[
    "Call recordings exported from an rc-recordings archive",
    "======================================================",
    "",
    `Archive:       ${s.source}`,
    `Calls:         ${range}`,
    `Extensions:    ${extensions}`,
    `Exported:      ${s.exportedAt} by rc-recordings ${s.version}`,
    `Recordings:    ${report.exported} (${report.bytes} bytes), with ${report.sidecars} call-log records (.json)`,
    `Chain head:    ${chain.head} (record ${chain.records} of the archive's hash chain)`,
    `Checkpoints:   ${signed}`,
    ...(problems.length > 0
      ? [
          "",
          "Recordings of the range this export does NOT carry (the archive did not hold them intact):",
          ...problems,
        ]
      : []),
    "",
    "What is inside",
    "--------------",
    "- the recordings, byte for byte as archived, in the archive's own folders and names;",
    "- <recording>.json beside a recording: its call-log record as RingCentral listed it (when the archive kept one);",
    "- .rc-recordings/manifest.jsonl: one JSON line per recording (path, bytes, sha256, call facts), each exactly",
    "  the line of the archive's manifest, with its link (prev) in the archive's hash chain;",
    `- ${CHAIN_PROOF_FILE}: the archive's hash chain from its start up to its head at the export. The lines of`,
    "  this export, the chain's start and the signed checkpoints are there in full; every other record is",
    '  {"omitted": "<its SHA-256>"}: another call\'s data stays out, its hash keeps the chain\'s shape;',
    "- SHA256SUMS: the SHA-256 of every file here; README.txt: this file.",
    "",
    "How to check it",
    "---------------",
    "With rc-recordings (the tool that made this export; Node.js 20 or newer):",
    "",
    "    rc-recordings verify --out THIS-FOLDER",
    "",
    "re-hashes every recording against the manifest, follows the chain proof (each full record's prev must be",
    "the hash of the line before it) and checks that the manifest holds exactly the records the proof holds in",
    "full. Exit 0: intact; exit 3: something was changed (the line on stderr names it). Add",
    "",
    "    --public-key public-key.pem   (the archive owner's Ed25519 public key, obtained from them directly;",
    "                                   its fingerprint must be the one above) to check every signed checkpoint;",
    "    --chain-head HEX              (a head the owner recorded elsewhere, e.g. in a ticket) to check that the",
    "                                   archive's chain contained it.",
    "",
    "Without the tool: `sha256sum -c SHA256SUMS` (macOS: `shasum -a 256 -c SHA256SUMS`) checks every file",
    "against the list. The chain proof can be followed with Python 3:",
    "",
    "    import hashlib, json",
    "    prev = None",
    `    for n, line in enumerate(open("${CHAIN_PROOF_FILE}", encoding="utf-8").read().split("\\n"), 1):`,
    "        if not line.strip():",
    "            continue",
    "        record = json.loads(line)",
    '        if list(record) == ["omitted"]:',
    '            prev = record["omitted"]',
    "            continue",
    '        if prev is not None and record.get("prev") != prev:',
    '            raise SystemExit(f"broken at line {n}")',
    '        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)',
    "        prev = hashlib.sha256(canonical.encode()).hexdigest()",
    '    print("head", prev)',
    "",
    "It must print the chain head above, and every line of .rc-recordings/manifest.jsonl must be a line of the",
    "proof. What an omitted record cannot show: a record the export leaves out is known by its hash alone, so",
    "only the link of the record right after it binds it. A signed checkpoint shows that the owner's key signed",
    "the chain's head and length at that point.",
  ].join("\n")}\n`;
}
