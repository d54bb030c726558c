import { dirname } from "node:path";
import lockfile from "proper-lockfile";
import { OperationError } from "../errors.js";
import { sleep } from "../retry.js";
import { LOGGED_WAIT_MS } from "../waits.js";
import { ensurePrivateDir } from "./store/atomic-file.js";

/** Proof that the holder still owns the lock, checked right before every step that cannot be undone. */
export interface LockLease {
  /** Throws LockLostError when the lock may have passed to another process. */
  assertHeld(): void;
}

/** Mutual exclusion for everything that changes a profile's tokens, across processes. */
export interface ProfileLock {
  withLock<T>(work: (lease: LockLease) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** The lock was (or may have been) taken over while held; the step it guarded was not started. */
export class LockLostError extends OperationError {}

export interface RefreshLockOptions {
  /** A lock whose holder stopped touching it this long ago is taken over (the holder crashed). Min 2000. */
  staleMs: number;
  /** Give up waiting for a live holder after this long. */
  maxWaitMs: number;
  /** Poll interval while another process holds the lock. */
  pollMs: number;
  /**
   * Called once when the wait for a live holder passes `longWaitMs` (default LOGGED_WAIT_MS, 30 s): no wait is
   * silent (waits.ts). `maxWaitMs` is how long this wait may last at most.
   */
  onLongWait?: ((maxWaitMs: number) => void) | undefined;
  longWaitMs?: number | undefined;
}

// A refresh takes well under a second; a holder never sits out a token-endpoint 429 under the lock (it releases
// it for the wait, token-lock.ts), but a silent endpoint may hold it for 3 × 15 s plus backoff. Contenders wait
// long anyway; a crashed holder stops renewing its lock's mtime and loses it after `staleMs`.
const DEFAULT_OPTIONS: RefreshLockOptions = { staleMs: 20_000, maxWaitMs: 180_000, pollMs: 50 };

/**
 * The profile's refresh lock: a `<target>.lock` directory (mkdir is atomic) whose mtime the holder renews every
 * tenth of `staleMs`; proper-lockfile treats it as stale once the renewals stop, which is what a short lock held
 * by a process that may be SIGKILLed needs. The lock is released on normal exit and on signals.
 *
 * A live holder can still lose the lock: if its event loop stalls (or the disk hangs) for about `staleMs`, a
 * contender takes it over. Two processes refreshing with the same refresh token would cost the loser its pair
 * (invalid_grant) and an extra session, so the holder calls `lease.assertHeld()` before each token request.
 * It fails when proper-lockfile reported the lock compromised, or — because that report comes from a timer that
 * may not have run yet after a stall — when our own heartbeat has not ticked for half of `staleMs`: a takeover
 * needs the mtime to be a full `staleMs` old, so a recent tick proves the lock is still ours.
 */
export class RefreshLock implements ProfileLock {
  private readonly options: RefreshLockOptions;

  constructor(
    private readonly target: string,
    options: Partial<RefreshLockOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async withLock<T>(work: (lease: LockLease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { staleMs } = this.options;
    const heartbeatMs = Math.max(1_000, Math.floor(staleMs / 10));
    let compromised: Error | undefined;
    const release = await this.acquire(
      heartbeatMs,
      (error) => {
        compromised = error;
      },
      signal,
    );
    let lastTick = Date.now();
    const ticker = setInterval(() => {
      lastTick = Date.now();
    }, heartbeatMs);
    ticker.unref();
    const lease: LockLease = {
      assertHeld: () => {
        const silentMs = Date.now() - lastTick;
        if (compromised === undefined && silentMs < staleMs / 2) return;
        const why = compromised ? compromised.message : `this process stalled for ${silentMs} ms`;
        throw new LockLostError(
          `lost the token lock ${this.target}.lock (${why}); another rc-recordings process may be renewing the tokens, so this one did not`,
        );
      },
    };
    try {
      return await work(lease);
    } finally {
      clearInterval(ticker);
      await release().catch(() => undefined); // already released when compromised; nothing left to do
    }
  }

  private async acquire(
    heartbeatMs: number,
    onCompromised: (error: Error) => void,
    signal?: AbortSignal,
  ): Promise<() => Promise<void>> {
    await ensurePrivateDir(dirname(this.target));
    const started = Date.now();
    const deadline = started + this.options.maxWaitMs;
    let announced = false;
    for (;;) {
      try {
        return await lockfile.lock(this.target, {
          realpath: false,
          stale: this.options.staleMs,
          update: heartbeatMs,
          retries: 0,
          // The default throws from a timer and kills the process; the lease reports it to the holder instead.
          onCompromised,
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ELOCKED") {
          throw new OperationError(
            `cannot take the token lock ${this.target}.lock: ${(error as Error).message}`,
          );
        }
      }
      if (!announced && Date.now() - started > (this.options.longWaitMs ?? LOGGED_WAIT_MS)) {
        announced = true;
        this.options.onLongWait?.(this.options.maxWaitMs);
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
