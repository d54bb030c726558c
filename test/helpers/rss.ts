import { readFileSync } from "node:fs";

/** Resident set size of a live process in bytes (Linux /proc), or 0 elsewhere or once it is gone. */
export function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Run a spawned CLI to its end while sampling its RSS every 20 ms: its result and the peak RSS seen (0 off Linux). */
export async function withPeakRss<T>(run: { child: { pid?: number | undefined }; result: Promise<T> }) {
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(run.child.pid ?? 0));
  }, 20);
  try {
    const result = await run.result;
    return { result, peak };
  } finally {
    clearInterval(sampler);
  }
}
