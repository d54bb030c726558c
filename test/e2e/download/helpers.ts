import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";
import type { ManifestEntry } from "../../../src/archive/manifest.js";
import type { DownloadSummary } from "../../../src/run/stats.js";
import type { EmulatorOptions } from "../../emulator/index.js";
import { type CliOptions, spawnCli } from "../../helpers/cli.js";
import { type EmulatorEnv, type EmulatorEnvOptions, startEmulatorEnv } from "../../helpers/emulator-env.js";

// The built CLI (`npm run build` first) against the in-process emulator; each test has its own XDG_CONFIG_HOME,
// the file store, and one `login` done up front.

export interface DownloadEnv extends EmulatorEnv {
  /** The download folder (DIR) of this test, inside the test's temp folder. */
  out: string;
  download(args?: readonly string[], options?: CliOptions): ReturnType<EmulatorEnv["run"]>;
  /** Start a download in the background (for signals and concurrent runs). */
  spawnDownload(args?: readonly string[]): ReturnType<typeof spawnCli>;
}

export async function setupDownload(
  emulator: EmulatorOptions = {},
  options: Omit<EmulatorEnvOptions, "emulator"> = {},
): Promise<DownloadEnv> {
  const env = await startEmulatorEnv({ ...options, emulator: { calls: 12, ...emulator } });
  await env.login();
  env.emu.control.resetStats();
  const out = join(env.dir, "out");
  return {
    ...env,
    out,
    download: (args = [], options = {}) => env.run(["download", "--out", out, ...args], options),
    spawnDownload: (args = []) => spawnCli(["download", "--out", out, ...args], { env: env.env }),
  };
}

export function summaryOf(stdout: string): DownloadSummary {
  return JSON.parse(stdout) as DownloadSummary;
}

export function manifestOf(out: string): ManifestEntry[] {
  const file = join(out, ".rc-recordings", "manifest.jsonl");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as ManifestEntry & { record?: string })
    .filter((record) => record.record === undefined); // the chain's start, checkpoints: no recordings
}

/** Streamed: a test recording may be far larger than the test's memory should grow. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every file below `dir` (relative, "/"-separated), the state folder excluded. */
export function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const visit = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        if (name !== ".rc-recordings") visit(path);
      } else found.push(relative(dir, path).split("\\").join("/"));
    }
  };
  visit(dir);
  return found.sort();
}

/** The recordings the emulator serves (minus `except`), each saved byte-exact and listed in the manifest. */
export async function expectAllSaved(e: DownloadEnv, except: string[] = []): Promise<void> {
  const expected = e.emu.control.recordings().filter((r) => !except.includes(r.id));
  const entries = new Map(manifestOf(e.out).map((m) => [m.recordingId, m]));
  expect([...entries.keys()].sort()).toEqual(expected.map((r) => r.id).sort());
  for (const recording of expected) {
    const entry = entries.get(recording.id) as ManifestEntry;
    const file = join(e.out, ...entry.path.split("/"));
    expect(statSync(file).size, entry.path).toBe(recording.bytes);
    expect(await sha256File(file), entry.path).toBe(e.emu.control.expectedSha256(recording.id));
    expect(entry.sha256).toBe(e.emu.control.expectedSha256(recording.id));
    expect(entry.contentType).toBe(recording.contentType);
  }
  expect(filesBelow(e.out).filter((f) => f.endsWith(".part"))).toEqual([]);
}

/** Resolve once `check` holds (polling), or fail after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 8000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The `.part` files below DIR with their sizes. */
export function partials(out: string): { path: string; size: number }[] {
  return filesBelow(out)
    .filter((f) => f.endsWith(".part"))
    .map((f) => ({ path: f, size: statSync(join(out, ...f.split("/"))).size }));
}
