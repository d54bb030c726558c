import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import { LoginRequiredError } from "../errors.js";
import type { Logger } from "../ui/logger.js";
import type { AccessTokenProvider } from "./types.js";

/** The cheapest authenticated call (Light group): who the token belongs to. */
export const VERIFY_PATH = "/restapi/v1.0/account/~/extension/~";

export interface VerifiedExtension {
  id: string;
  extensionNumber?: string;
}

/**
 * `token status --verify`: one API call through the shared ApiClient, so it recovers from a 401 (OAU-213 ...)
 * and honours rate limits exactly as a download does.
 */
export async function verifyAccess(
  tokens: AccessTokenProvider,
  log: Logger,
  signal?: AbortSignal,
): Promise<VerifiedExtension> {
  const [{ createApiClient }, { RateLimiter }] = await Promise.all([
    import("../api/client.js"),
    import("../api/rate-limiter.js"),
  ]);
  const api: ApiClient = createApiClient({ tokens, limiter: new RateLimiter(), log });
  try {
    const body = await api.getJson<{ id?: unknown; extensionNumber?: unknown }>(VERIFY_PATH, {
      ...(signal ? { signal } : {}),
    });
    return {
      id: String(body.id ?? ""),
      ...(typeof body.extensionNumber === "string" ? { extensionNumber: body.extensionNumber } : {}),
    };
  } catch (error) {
    // Still 401 after the session renewed the pair: the login is not usable.
    if (error instanceof ApiError && error.status === 401) {
      throw new LoginRequiredError(`the server keeps rejecting freshly renewed tokens (${error.message})`, {
        cause: error,
      });
    }
    throw error;
  }
}
