import type { ChildScript } from "./compile.js";

/** What every scenario gets from the harness. */
export interface BenchContext {
  quick: boolean;
  /** Transpiled peer scripts and the maxRSS preload. */
  scripts: Record<ChildScript, string>;
  /** A fresh folder for this scenario's downloads and config (removed afterwards). */
  dir: string;
  /** Progress lines on stderr (stdout carries only the table). */
  log: (line: string) => void;
}

/** ISO time two days back: every emulated call is newer, so every tool lists the whole dataset. */
export function twoDaysAgo(): string {
  return new Date(Date.now() - 2 * 86_400_000).toISOString();
}
