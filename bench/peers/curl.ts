/**
 * The transport ceiling: curl fetching the same content URLs with the same parallelism and a token obtained
 * beforehand. The token goes into a private config file (never argv, where `ps` would show it).
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Measured, measure } from "../lib/measure.js";

export interface CurlJob {
  urls: readonly { id: string; contentUri: string }[];
  accessToken: string;
  outDir: string;
  parallel: number;
  /** Where the config file may live for the duration of the run. */
  workDir: string;
}

export const CURL = "/usr/bin/curl";

function quoted(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export async function runCurl(job: CurlJob): Promise<Measured> {
  const config = join(job.workDir, "curl.conf");
  const lines = [`header = ${quoted(`Authorization: Bearer ${job.accessToken}`)}`];
  for (const { id, contentUri } of job.urls) {
    lines.push(`url = ${quoted(contentUri)}`, `output = ${quoted(join(job.outDir, `${id}.mp3`))}`);
  }
  writeFileSync(config, `${lines.join("\n")}\n`, { mode: 0o600 });
  try {
    return await measure(CURL, [
      "--silent",
      "--show-error",
      "--fail",
      "--parallel",
      "--parallel-max",
      String(job.parallel),
      "--config",
      config,
    ]);
  } finally {
    rmSync(config, { force: true });
  }
}
