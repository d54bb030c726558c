import { LoginRequiredError } from "../errors.js";
import { ApiError } from "./errors.js";
import type { ApiClient } from "./types.js";

/** The cheapest authenticated call (Light group): the extension the token belongs to. */
export const OWN_EXTENSION_PATH = "/restapi/v1.0/account/~/extension/~";

export interface OwnExtension {
  id: string;
  extensionNumber?: string;
  name?: string;
  /** The account the extension belongs to. */
  accountId?: string;
  /** `permissions.admin.enabled`: an administrator, who may read the account-wide call log. */
  admin?: boolean;
}

/**
 * Who the token belongs to, through the run's ApiClient, so the call recovers from a 401 (OAU-213 ...) and
 * honours rate limits exactly as a download does. A 401 that survives the client's recovery means the server
 * rejects even freshly renewed tokens: the login is not usable.
 */
export async function readOwnExtension(api: ApiClient, signal?: AbortSignal): Promise<OwnExtension> {
  try {
    const body = await api.getJson<{
      id?: unknown;
      extensionNumber?: unknown;
      name?: unknown;
      account?: { id?: unknown };
      permissions?: { admin?: { enabled?: unknown } };
    }>(OWN_EXTENSION_PATH, { ...(signal ? { signal } : {}) });
    const accountId = body.account?.id;
    const admin = body.permissions?.admin?.enabled;
    return {
      id: String(body.id ?? ""),
      ...(typeof body.extensionNumber === "string" ? { extensionNumber: body.extensionNumber } : {}),
      ...(typeof body.name === "string" ? { name: body.name } : {}),
      ...(accountId === undefined || accountId === null ? {} : { accountId: String(accountId) }),
      ...(typeof admin === "boolean" ? { admin } : {}),
    };
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new LoginRequiredError(`the server keeps rejecting freshly renewed tokens (${error.message})`, {
        cause: error,
      });
    }
    throw error;
  }
}
