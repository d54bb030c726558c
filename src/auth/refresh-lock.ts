import { dirname } from "node:path";
import lockfile from "proper-lockfile";
import { OperationError } from "../errors.js";
import { sleep } from "../retry.js";
import { ensurePrivateDir } from "./store/atomic-file.js";

/** Mutual exclusion for everything that changes a profile's tokens, across processes. */
export interface ProfileLock {
  withLock<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface RefreshLockOptions {
  /** A lock whose holder stopped touching it this long ago is taken over (the holder crashed). Min 2000. */
  staleMs: number;
  /** Give up waiting for a live holder after this long. */
  maxWaitMs: number;
  /** Poll interval while another process holds the lock. */
  pollMs: number;
}

// A refresh takes well under a second, but a holder may sit out an Auth-group 429 (Retry-After up to 60 s), so
// contenders wait long; a crashed holder stops renewing its lock's mtime and loses it after `staleMs`.
const DEFAULT_OPTIONS: RefreshLockOptions = { staleMs: 10_000, maxWaitMs: 180_000, pollMs: 50 };

/**
 * The profile's refresh lock: a `<target>.lock` directory (mkdir is atomic) whose mtime the holder renews;
 * proper-lockfile treats it as stale once the renewals stop, which is what a short lock held by a process that
 * may be SIGKILLed needs. The lock is released on normal exit and on signals.
 */
export class RefreshLock implements ProfileLock {
  private readonly options: RefreshLockOptions;

  constructor(
    private readonly target: string,
    options: Partial<RefreshLockOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async withLock<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await work();
    } finally {
      await release().catch(() => undefined); // already released when compromised; nothing left to do
    }
  }

  private async acquire(signal?: AbortSignal): Promise<() => Promise<void>> {
    await ensurePrivateDir(dirname(this.target));
    const deadline = Date.now() + this.options.maxWaitMs;
    for (;;) {
      try {
        return await lockfile.lock(this.target, {
          realpath: false,
          stale: this.options.staleMs,
          update: Math.max(1_000, Math.floor(this.options.staleMs / 4)),
          retries: 0,
          // The default throws from a timer and kills the process. A lost lock only means another process may
          // refresh too; the store's re-read keeps that safe enough, so carry on.
          onCompromised: () => undefined,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ELOCKED") {
          throw new OperationError(
            `cannot take the token lock ${this.target}.lock: ${(error as Error).message}`,
          );
        }
      }
      if (Date.now() >= deadline) {
        throw new OperationError(
          `another rc-recordings process has held the token lock ${this.target}.lock for over ${Math.round(this.options.maxWaitMs / 1000)} s`,
        );
      }
      await sleep(this.options.pollMs + Math.random() * this.options.pollMs, signal);
    }
  }
}
