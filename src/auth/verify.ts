import { LoginRequiredError, OperationError } from "../errors.js";
import { sleep } from "./sleep.js";
import type { AccessTokenProvider } from "./types.js";

/** The cheapest authenticated call (Light group): who the token belongs to. */
export const VERIFY_PATH = "/restapi/v1.0/account/~/extension/~";

export interface VerifiedExtension {
  id: string;
  extensionNumber?: string;
}

/**
 * `token status --verify`: one API call with the session's token, recovering from a 401 the same way every
 * API call does. A stop-gap with plain fetch until the shared ApiClient (src/api/client.ts) can be used here.
 */
export async function verifyAccess(
  provider: AccessTokenProvider,
  signal?: AbortSignal,
): Promise<VerifiedExtension> {
  for (let attempt = 1; ; attempt++) {
    const token = await provider.getAccessToken();
    let response: Response;
    try {
      response = await fetch(`${provider.server}${VERIFY_PATH}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal: signal ?? null,
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new OperationError(`the verification call failed: ${reason}`, { cause: error });
    }
    const last = attempt >= 3;
    if (response.status === 401 && !last) {
      await response.body?.cancel();
      await provider.recover(token);
      continue;
    }
    if (response.status === 429 && !last) {
      await response.body?.cancel();
      await sleep(Math.min(Number(response.headers.get("retry-after")) || 60, 120) * 1000, signal);
      continue;
    }
    if (response.status === 401)
      throw new LoginRequiredError("the server keeps rejecting freshly renewed tokens");
    if (!response.ok) throw new OperationError(`the verification call failed: HTTP ${response.status}`);
    const body = (await response.json()) as { id?: unknown; extensionNumber?: unknown };
    return {
      id: String(body.id ?? ""),
      ...(typeof body.extensionNumber === "string" ? { extensionNumber: body.extensionNumber } : {}),
    };
  }
}
