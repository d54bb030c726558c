import { describe, expect, it } from "vitest";
import { ObjectLock } from "../../../src/destination/s3/object-lock.js";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("ObjectLock: the fields of an evidence object", () => {
  it("retains N days from the write, rounded up to a whole second (never shorter than asked)", () => {
    const lock = new ObjectLock({ retention: { mode: "COMPLIANCE", days: 30 }, legalHold: false });
    const now = Date.parse("2026-12-04T10:00:00.250Z");
    const params = lock.params(now);
    expect(params.ObjectLockMode).toBe("COMPLIANCE");
    expect(params.ObjectLockRetainUntilDate?.toISOString()).toBe("2027-01-03T10:00:01.000Z");
    expect(params.ObjectLockRetainUntilDate?.getTime()).toBeGreaterThanOrEqual(now + 30 * DAY_MS);
    expect(params).not.toHaveProperty("ObjectLockLegalHoldStatus");
  });

  it("a legal hold alone sets only the hold; both together set both", () => {
    expect(new ObjectLock({ legalHold: true }).params()).toEqual({ ObjectLockLegalHoldStatus: "ON" });
    const both = new ObjectLock({ retention: { mode: "GOVERNANCE", days: 1 }, legalHold: true });
    expect(Object.keys(both.params()).sort()).toEqual([
      "ObjectLockLegalHoldStatus",
      "ObjectLockMode",
      "ObjectLockRetainUntilDate",
    ]);
    expect(both.describe()).toBe("retained 1 day (GOVERNANCE) and under a legal hold");
  });
});
