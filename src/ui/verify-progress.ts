import type { VerifyProgress } from "../archive/verify.js";
import type { Logger } from "../log/logger.js";
import { formatBytes } from "./format.js";
import { spinnerFor } from "./reporter.js";

export interface VerifyProgressView extends VerifyProgress {
  /** Stop the spinner; safe to call more than once. */
  close(): void;
}

/**
 * On a terminal: a spinner with recordings and bytes checked and the hashing rate, as for downloads. Otherwise
 * one line at the start; the result lines come from the command.
 */
export async function createVerifyProgress(options: {
  log: Logger;
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  dir: string;
}): Promise<VerifyProgressView> {
  const spinner = await spinnerFor(options, "reading the manifest");
  let total = 0;
  let totalBytes = 0;
  let done = 0;
  let bytes = 0;
  let startedAt = Date.now();
  let ticker: NodeJS.Timeout | undefined;
  const refresh = () => {
    if (!spinner) return;
    const seconds = (Date.now() - startedAt) / 1000;
    const rate = seconds > 0 ? bytes / seconds : 0;
    spinner.text = `verified ${done}/${total} recordings · ${formatBytes(bytes)} of ${formatBytes(totalBytes)} · ${formatBytes(rate)}/s`;
  };
  return {
    started(recordings, size) {
      total = recordings;
      totalBytes = size;
      startedAt = Date.now();
      options.log.info(`verifying ${recordings} recordings (${formatBytes(size)}) in ${options.dir}`);
      if (!spinner) return;
      refresh();
      spinner.start();
      // The rate changes between files too: redraw on a timer, not only when a file is done.
      ticker = setInterval(refresh, 250);
      ticker.unref();
    },
    bytes(count) {
      bytes += count;
    },
    checked() {
      done += 1;
      refresh();
    },
    close() {
      clearInterval(ticker);
      ticker = undefined;
      spinner?.stop();
    },
  };
}
