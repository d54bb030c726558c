/**
 * Preloaded into a measured Node child (`--require`): at exit, writes the process's peak RSS (bytes) to the
 * file named by BENCH_MAXRSS_FILE. Costs nothing while the child runs.
 *
 * Linux: VmHWM from /proc/self/status, the high-water mark of THIS process image. Not
 * `process.resourceUsage().maxRSS`: getrusage keeps the pre-exec maximum across fork+exec, so every child
 * would report at least the harness's own RSS (measured: `node -e 0` "peaked" at 72 MiB).
 */
import { readFileSync, writeFileSync } from "node:fs";

function peakRssBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (match?.[1]) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS * 1024;
}

const target = process.env.BENCH_MAXRSS_FILE;
if (target) {
  process.on("exit", () => {
    writeFileSync(target, String(peakRssBytes()));
  });
}
