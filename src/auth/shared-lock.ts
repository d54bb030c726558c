import { BusyError, OperationError } from "../errors.js";
import { sleep } from "../retry.js";
import { LOGGED_WAIT_MS } from "../waits.js";
import { type LockLease, LockLostError, type ProfileLock } from "./refresh-lock.js";
import type { SharedObjects } from "./store/shared-store.js";

export interface SharedLockOptions {
  /** Give up waiting for a live holder after this long. */
  maxWaitMs: number;
  /** Poll interval (plus jitter) while another process holds the lock: each poll is one HEAD and GET. */
  pollMs: number;
  /**
   * A holder that has held the lock this long no longer starts a token request: the lock's heartbeat may have
   * failed for long enough (2 minutes) that another machine judged it dead and took over. Why this lease and not
   * the archive's LockWatch: docs/shared-store.md, "Why a lease".
   */
  trustMs: number;
  onLongWait?: ((maxWaitMs: number) => void) | undefined;
}

const DEFAULT_OPTIONS: SharedLockOptions = { maxWaitMs: 180_000, pollMs: 250, trustMs: 60_000 };

/**
 * The profile lock of a shared store, for processes on many machines: the bucket lock object of the archive
 * (same conditional create, heartbeat and takeover rules), waited for while another process holds it. Under it
 * the session re-reads the store before any refresh, exactly as with the local lock, so N machines × M runs
 * share one pair and one login.
 */
export class SharedLock implements ProfileLock {
  private readonly options: SharedLockOptions;

  constructor(
    private readonly objects: SharedObjects,
    private readonly key: string,
    options: Partial<SharedLockOptions> = {},
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async withLock<T>(work: (lease: LockLease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { held, since } = await this.acquire(signal);
    const lease: LockLease = {
      assertHeld: () => {
        const heldMs = Date.now() - since;
        if (heldMs < this.options.trustMs) return;
        throw new LockLostError(
          `held the token lock ${this.objects.where}${this.key} for ${Math.round(heldMs / 1000)} s; another machine may be renewing the tokens, so this one did not`,
        );
      },
    };
    try {
      return await work(lease);
    } finally {
      await held.release().catch(() => undefined); // a lock left behind is taken over once its holder is silent
    }
  }

  /**
   * The lock, and `since`: a time no later than the lock object's write. The lease counts from there, not from
   * when the acquisition returned (a slow store may take a while to answer its read-back), because other machines
   * judge the holder by that write.
   */
  private async acquire(
    signal?: AbortSignal,
  ): Promise<{ held: { release(): Promise<void> }; since: number }> {
    const started = Date.now();
    let announced = false;
    for (;;) {
      const since = Date.now();
      try {
        return { held: await this.objects.lock(this.key), since };
      } catch (error) {
        if (!(error instanceof BusyError)) throw error;
      }
      if (!announced && Date.now() - started > LOGGED_WAIT_MS) {
        announced = true;
        this.options.onLongWait?.(this.options.maxWaitMs);
      }
      if (Date.now() - started >= this.options.maxWaitMs) {
        throw new OperationError(
          `another rc-recordings process has held the token lock ${this.objects.where}${this.key} for over ${Math.round(this.options.maxWaitMs / 1000)} s`,
        );
      }
      await sleep(this.options.pollMs + Math.random() * this.options.pollMs, signal);
    }
  }
}
