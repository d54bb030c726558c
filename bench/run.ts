/**
 * `npm run bench [-- --quick] [-- --only rate-limited,memory]`: every scenario of issue 5 for rc-recordings and
 * its peers, side by side in one run. Prints a markdown table on stdout (progress on stderr) and writes
 * bench/results.json. Ratios are measured in the same run; absolute times on a shared machine are noise.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compileChildScripts, WORK_DIR } from "./lib/compile.js";
import type { BenchContext } from "./lib/context.js";
import { markdownTable, type ScenarioResult } from "./lib/report.js";
import { backfill } from "./scenarios/backfill.js";
import { memory } from "./scenarios/memory.js";
import { rateLimited } from "./scenarios/rate-limited.js";
import { s3 } from "./scenarios/s3.js";
import { startup } from "./scenarios/startup.js";
import { tokens } from "./scenarios/tokens.js";
import { unlimited } from "./scenarios/unlimited.js";
import { verify } from "./scenarios/verify.js";
import { watchLatency } from "./scenarios/watch.js";
import { watchSoak } from "./scenarios/watch-soak.js";

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  "rate-limited": rateLimited,
  unlimited,
  memory,
  tokens,
  startup,
  verify,
  s3,
  backfill,
  watch: watchLatency,
  "watch-soak": watchSoak,
};

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
  strict: true,
});
const quick = values.quick ?? false;
const chosen = values.only ? values.only.split(",") : Object.keys(SCENARIOS);
const unknown = chosen.filter((id) => !(id in SCENARIOS));
if (unknown.length)
  throw new Error(`unknown scenario(s): ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);

const log = (line: string) => process.stderr.write(`${line}\n`);
const scripts = compileChildScripts();
const runDir = join(WORK_DIR, `run-${process.pid}`);
const results: ScenarioResult[] = [];
const began = Date.now();
try {
  for (const id of chosen) {
    const scenario = SCENARIOS[id];
    if (!scenario) continue;
    const dir = join(runDir, id);
    mkdirSync(dir, { recursive: true });
    log(`${id}${quick ? " (quick)" : ""}`);
    const startedAt = Date.now();
    try {
      results.push(await scenario({ quick, scripts, dir, log }));
    } catch (error) {
      // One broken scenario must not hide the others: it becomes a missed row with the reason.
      const message = error instanceof Error ? error.message : String(error);
      log(`  failed: ${message}`);
      results.push({
        id,
        title: id,
        rows: [{ scenario: id, metric: `did not run: ${message}`, values: {}, target: "runs", met: false }],
        raw: { error: message },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    log(`  ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }
} finally {
  rmSync(runDir, { recursive: true, force: true });
}

const table = markdownTable(results);
process.stdout.write(`${table}\n`);
const resultsFile = fileURLToPath(new URL("./results.json", import.meta.url));
writeFileSync(
  resultsFile,
  `${JSON.stringify(
    {
      date: new Date(began).toISOString(),
      quick,
      durationMs: Date.now() - began,
      node: process.version,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
      scenarios: results,
      table,
    },
    null,
    2,
  )}\n`,
);
log(`results: ${resultsFile} (${((Date.now() - began) / 1000).toFixed(0)} s)`);
