import { describe, expect, it } from "vitest";
import { TokenEndpointRateLimitedError } from "../../../src/auth/errors.js";
import { withTokenLock } from "../../../src/auth/token-lock.js";
import { isRetryable } from "../../../src/retry.js";
import { MemoryLock, memoryLogger } from "./fakes.js";

describe("withTokenLock", () => {
  it("waits out two 429s with the lock released, then gives up with the endpoint's own (non-retryable) error", async () => {
    const lock = new MemoryLock();
    const { log, lines } = memoryLogger();
    let calls = 0;
    const error = await withTokenLock(
      lock,
      async () => {
        calls++;
        throw new TokenEndpointRateLimitedError("refresh the token", 5);
      },
      log,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointRateLimitedError);
    expect(isRetryable(error)).toBe(false); // a caller's own budget never asks the endpoint again
    expect(calls).toBe(3);
    expect(lock.acquisitions).toBe(3);
    expect(lines.filter((line) => line.includes("without holding the profile lock"))).toHaveLength(2);
  });

  it("runs the work again after a wait and returns what it returns", async () => {
    let calls = 0;
    const result = await withTokenLock(
      new MemoryLock(),
      async () => {
        if (++calls === 1) throw new TokenEndpointRateLimitedError("log in", 1);
        return "pair";
      },
      memoryLogger().log,
    );
    expect(result).toBe("pair");
    expect(calls).toBe(2);
  });
});
