export const TOOLS = ["rc-recordings", "naive", "concurrent", "curl"] as const;
export type Tool = (typeof TOOLS)[number];

/** One line of the table: a metric of one scenario, per tool, with the target when the issue sets one. */
export interface Row {
  scenario: string;
  metric: string;
  values: Partial<Record<Tool, string>>;
  /** The target for rc-recordings, e.g. "≥ 95 %". */
  target?: string;
  /** Whether rc-recordings met it (undefined = no target). */
  met?: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  /** Everything measured, for results.json. */
  raw: unknown;
}

const TOOL_HEADERS: Record<Tool, string> = {
  "rc-recordings": "rc-recordings",
  naive: "naive",
  concurrent: "concurrent",
  curl: "curl ×N",
};

function cell(text: string | undefined): string {
  return text ?? "—";
}

export function markdownTable(results: readonly ScenarioResult[]): string {
  const header = ["Scenario", "Metric", ...TOOLS.map((t) => TOOL_HEADERS[t]), "Target", "Met"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  let previous: string | undefined;
  for (const result of results) {
    for (const row of result.rows) {
      const verdict = row.met === undefined ? "" : row.met ? "✅ met" : "❌ missed";
      const cells = [
        row.scenario === previous ? "" : row.scenario,
        row.metric,
        ...TOOLS.map((t) => cell(row.values[t])),
        row.target ?? "",
        verdict,
      ];
      lines.push(`| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`);
      previous = row.scenario;
    }
  }
  return lines.join("\n");
}

export const fmt = {
  mib: (bytes: number | undefined) => (bytes === undefined ? "?" : `${(bytes / 1048576).toFixed(0)} MiB`),
  mbps: (bytesPerSec: number) => `${(bytesPerSec / 1e6).toFixed(1)} MB/s`,
  s: (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`,
  ms: (ms: number) => `${ms.toFixed(0)} ms`,
  pct: (ratio: number) => `${(ratio * 100).toFixed(1)} %`,
  x: (ratio: number) => `${ratio.toFixed(2)} ×`,
};

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
