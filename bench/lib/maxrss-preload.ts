/**
 * Preloaded into a measured Node child (`--require`): at exit, writes the process's peak RSS (bytes) to the
 * file named by BENCH_MAXRSS_FILE. Costs nothing while the child runs.
 */
import { writeFileSync } from "node:fs";

const target = process.env.BENCH_MAXRSS_FILE;
if (target) {
  process.on("exit", () => {
    // resourceUsage().maxRSS is in kilobytes.
    writeFileSync(target, String(process.resourceUsage().maxRSS * 1024));
  });
}
