import type { Dataset } from "./dataset.js";

/** Retention with compressed time: see `RetentionOptions` in options.ts. */
export interface RetentionConfig {
  /** Epoch ms of the first deletion. */
  startAt: number;
  /** One recording more disappears every this many ms (the platform's days, compressed). */
  everyMs: number;
}

const DAY_MS = 86_400_000;

/**
 * The platform deletes recordings oldest first once they leave retention (`retentionPeriod` days, 90 by default,
 * or 100 000 per account). Both happen here: a call older than the account's retention period has lost its
 * recording, and besides, with compressed time, from `startAt` on, one more recording disappears every `everyMs`, starting with the
 * oldest record's. An expired record keeps its call-log row but loses its `recording` (and its legs theirs);
 * its content and metadata answer 404 CMN-102. A record with two recordings (legs) goes at once and counts as
 * two. The boundary only moves forward and is advanced lazily, so a 100 000-record log costs nothing up front.
 */
export class Retention {
  /** Records with an index at or above this are expired (record calls-1 is the oldest). */
  private boundary: number;
  private deletedCount = 0;

  constructor(
    private config: RetentionConfig | undefined,
    private readonly dataset: Dataset,
    /** The account's `retentionPeriod` (days) as it is now (a control call may change it). */
    private readonly periodDays: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.boundary = dataset.size;
  }

  /** Recordings deleted by retention so far. */
  get deleted(): number {
    this.advance();
    return this.deletedCount;
  }

  /**
   * The first expired index (dataset.size when nothing expired yet): older than the retention period, or taken
   * by the compressed-time schedule; changes the call log's shape.
   */
  get firstExpiredIndex(): number {
    this.advance();
    const aged = this.dataset.firstIndexBefore(this.now() - this.periodDays() * DAY_MS);
    return Math.min(this.boundary, aged);
  }

  /**
   * Start (or re-time) the deletions: from `startAt` on, one every `everyMs`. What is gone stays gone; a new
   * deletion happens once the new schedule has counted past the ones already made.
   */
  configure(config: RetentionConfig): void {
    this.advance();
    this.config = config;
  }

  isExpired(index: number): boolean {
    return index >= this.firstExpiredIndex;
  }

  private advance(): void {
    const config = this.config;
    if (!config) return;
    const elapsed = this.now() - config.startAt;
    if (elapsed < 0) return;
    const due = Math.floor(elapsed / config.everyMs) + 1;
    while (this.deletedCount < due && this.boundary > 0) {
      this.boundary--;
      this.deletedCount += this.dataset.recordingCountOf(this.boundary);
    }
  }
}
