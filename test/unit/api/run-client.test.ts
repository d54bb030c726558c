import { describe, expect, it } from "vitest";
import { ApiError } from "../../../src/api/errors.js";
import { runClient } from "../../../src/api/run-client.js";
import type { ApiClient } from "../../../src/api/types.js";
import { TokenEndpointUnavailableError } from "../../../src/auth/errors.js";
import { OperationError } from "../../../src/errors.js";
import { BUDGETS } from "../../../src/retry.js";

/** getJson fails with each scripted error in turn, then answers `{ page: n }`. */
function failing(...errors: Error[]) {
  let calls = 0;
  const api: ApiClient = {
    get: () => Promise.reject(new Error("not used")),
    async getJson<T>() {
      const error = errors[calls++];
      if (error) throw error;
      return { page: calls } as T;
    },
    getJsonWith: () => Promise.reject(new Error("not used")),
  };
  return { api, calls: () => calls };
}

const client = (api: ApiClient) =>
  runClient(api, {
    signal: new AbortController().signal,
    retry: { budget: { ...BUDGETS.listing, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: () => undefined },
  });

describe("runClient with the listing budget", () => {
  it("sits out a token endpoint outage like any other transient failure", async () => {
    const { api, calls } = failing(
      new TokenEndpointUnavailableError("could not refresh the token: network error: ECONNREFUSED"),
      new ApiError(503, undefined, undefined, "/restapi/v1.0/account/~/call-log"),
    );
    await expect(client(api).getJson("/call-log")).resolves.toEqual({ page: 3 });
    expect(calls()).toBe(3);
  });

  it("does not retry an error that is not known to be transient", async () => {
    const { api, calls } = failing(new OperationError("the token endpoint keeps answering 429"));
    await expect(client(api).getJson("/call-log")).rejects.toThrow(/429/);
    expect(calls()).toBe(1);
  });

  it("gives up after its own attempts", async () => {
    const outage = () => new TokenEndpointUnavailableError("could not refresh the token: HTTP 503");
    const { api, calls } = failing(outage(), outage(), outage(), outage(), outage(), outage());
    await expect(client(api).getJson("/call-log")).rejects.toBeInstanceOf(TokenEndpointUnavailableError);
    expect(calls()).toBe(5);
  });
});
