import { UsageError } from "../../errors.js";
import type { ObjectLockRequest } from "../types.js";
import type { BucketObjectLock, ObjectLockParams, S3Bucket } from "./bucket.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * S3 Object Lock as a run asks for it: each evidence object (a recording, its sidecar) is written with its own
 * retention (`days` from its write, in `mode`) and/or a legal hold, so that nobody — not the tool, not an insider
 * with its credentials, in COMPLIANCE mode not even the account's root — can delete or overwrite that version
 * before the date. The archive's state (manifest, lock, journal, mark, index.csv) never gets one: it is rewritten
 * by every run.
 */
export class ObjectLock {
  constructor(private readonly request: ObjectLockRequest) {}

  /** The lock fields of an evidence object written now; the date is rounded up to a whole second (S3's form). */
  params(now = Date.now()): ObjectLockParams {
    const { retention, legalHold } = this.request;
    return {
      ...(retention && {
        ObjectLockMode: retention.mode,
        ObjectLockRetainUntilDate: new Date(Math.ceil((now + retention.days * DAY_MS) / 1000) * 1000),
      }),
      ...(legalHold && { ObjectLockLegalHoldStatus: "ON" as const }),
    };
  }

  /** For the log: what every recording gets. */
  describe(): string {
    const { retention, legalHold } = this.request;
    const parts = [
      ...(retention
        ? [`retained ${retention.days} day${retention.days === 1 ? "" : "s"} (${retention.mode})`]
        : []),
      ...(legalHold ? ["under a legal hold"] : []),
    ];
    return parts.join(" and ");
  }

  /**
   * Before any recording is fetched: the bucket must have Object Lock enabled, or S3 refuses every locked PUT
   * (and a store without it would lock nothing). A bucket without it is bad input (exit 2) naming the fix.
   */
  async assertEnabled(bucket: S3Bucket, where: string): Promise<BucketObjectLock> {
    const lock = await bucket.objectLock();
    if (!lock.enabled) {
      throw new UsageError(
        `${where}: ${this.flags()} needs a bucket with Object Lock enabled, and this one has none: archive into a bucket created with Object Lock (versioning on), or enable it on this versioned bucket (docs/proof.md)`,
      );
    }
    return lock;
  }

  private flags(): string {
    const { retention, legalHold } = this.request;
    return [...(retention ? ["--object-lock-days"] : []), ...(legalHold ? ["--legal-hold"] : [])].join(
      " and ",
    );
  }
}
