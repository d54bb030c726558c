/**
 * The transport ceiling: N curl processes over the same content URLs (dealt round-robin), each fetching its
 * share one after another on one kept-alive connection, with a token obtained beforehand. The token goes into
 * a private config file, never argv (where `ps` would show it). N processes rather than `curl --parallel`:
 * curl 7.88's parallel mode starts a queued transfer only on its next ~1 s poll, which made it ~1 s slower
 * than ideal here (measured: 4.0 s for 12 × 4 MB at 4 MB/s × 4, where 3 s is the floor).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Measured, measure } from "../lib/measure.js";

export interface CurlJob {
  urls: readonly { id: string; contentUri: string }[];
  accessToken: string;
  outDir: string;
  parallel: number;
  /** Where the config files may live for the duration of the run. */
  workDir: string;
}

export const CURL = "/usr/bin/curl";

function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** All N processes together: wall time from the first spawn to the last exit; code 0 only if all succeeded. */
export async function runCurl(job: CurlJob): Promise<Measured> {
  const configs = Array.from({ length: job.parallel }, (_, i) => join(job.workDir, `curl-${i}.conf`));
  configs.forEach((config, i) => {
    const lines = [`header = ${quoted(`Authorization: Bearer ${job.accessToken}`)}`];
    job.urls.forEach(({ id, contentUri }, n) => {
      if (n % job.parallel !== i) return;
      lines.push(`url = ${quoted(contentUri)}`, `output = ${quoted(join(job.outDir, `${id}.mp3`))}`);
    });
    writeFileSync(config, `${lines.join("\n")}\n`, { mode: 0o600 });
  });
  try {
    const began = performance.now();
    const runs = await Promise.all(
      configs.map((config) => measure(CURL, ["--silent", "--show-error", "--fail", "--config", config])),
    );
    return {
      code: runs.every((r) => r.code === 0) ? 0 : (runs.find((r) => r.code !== 0)?.code ?? 1),
      stdout: runs.map((r) => r.stdout).join(""),
      stderr: runs.map((r) => r.stderr).join(""),
      wallMs: performance.now() - began,
      peakRss: undefined,
    };
  } finally {
    for (const config of configs) rmSync(config, { force: true });
  }
}
