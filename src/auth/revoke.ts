import type { Logger } from "../log/logger.js";
import { StoreCorruptError } from "./errors.js";
import type { AppCredentials, TokenPair } from "./profile.js";
import type { AuthServices } from "./services.js";
import type { ProfileStore, StoreKind } from "./store/types.js";
import type { TokenEndpoint } from "./token-endpoint.js";
import { TokenRequestRejected } from "./token-failure.js";
import { withTokenLock } from "./token-lock.js";

export type RevokeOutcome =
  | { revoked: false; reason: "nothing stored" | "already ended" }
  | { revoked: true };

/**
 * `token revoke`: end the session server-side, then mark the stored login ended (the app credentials stay for
 * the next `login`; no command re-logs in silently after this). A network failure leaves the pair stored, so the
 * user can retry.
 */
export async function revokeLogin(
  services: AuthServices,
  log: Logger,
  signal?: AbortSignal,
): Promise<RevokeOutcome> {
  const ended = await underProfileLock(services, log, signal, async (store) => {
    const record = await store.read();
    if (!record) return undefined;
    if (record.login.state !== "active") return { revoked: false, reason: "already ended" } as const;
    await revokeServerSide(services.endpoint, record.credentials, record.login.tokens, log, signal);
    await store.write({ ...record, login: { state: "ended", reason: "revoked", endedAt: Date.now() } });
    return { revoked: true } as const;
  });
  return ended ?? { revoked: false, reason: "nothing stored" };
}

/** What `logout` did: nothing was stored, or the profile's record is gone from `store`. */
export type LogoutOutcome =
  | { forgotten: false }
  | {
      forgotten: true;
      store: StoreKind;
      /** The file or object that held the record. */
      path: string;
      /** `revoked`: ended now; `already ended`: by an earlier revoke; `unreadable`: a damaged record, not revoked. */
      session: "revoked" | "already ended" | "unreadable";
    };

/**
 * `logout`: end the session server-side and forget the profile: the token pair AND the app credentials (client
 * id, secret, JWT) leave its store (the keychain key with them). A network failure forgets nothing, so the user
 * can retry; a damaged record (which no run can use either) is removed without a revoke.
 */
export async function logout(
  services: AuthServices,
  log: Logger,
  signal?: AbortSignal,
): Promise<LogoutOutcome> {
  const outcome = await underProfileLock(services, log, signal, async (store) => {
    let session: "revoked" | "already ended" | "unreadable";
    try {
      const record = await store.read();
      if (!record) return undefined;
      if (record.login.state === "active") {
        await revokeServerSide(services.endpoint, record.credentials, record.login.tokens, log, signal);
        session = "revoked";
      } else session = "already ended";
    } catch (error) {
      if (!(error instanceof StoreCorruptError)) throw error;
      log.warn(`${error.reason}; removing it without revoking its session`);
      session = "unreadable";
    }
    await store.remove();
    return { forgotten: true, store: store.kind, path: store.path, session } as const;
  });
  return outcome ?? { forgotten: false };
}

/**
 * Run `work` on the profile's store under its token lock, so that no process refreshes the pair meanwhile;
 * undefined when nothing is stored.
 */
async function underProfileLock<T>(
  services: AuthServices,
  log: Logger,
  signal: AbortSignal | undefined,
  work: (store: ProfileStore) => Promise<T | undefined>,
): Promise<T | undefined> {
  const store = await services.locate();
  if (!store) return undefined;
  return withTokenLock(services.lock, () => work(store), log, signal);
}

/**
 * Revoke the pair's session. The refresh token outlives the access token, and revoking either ends the whole
 * session. A 4xx means the server no longer knows the session: it is over either way (RingCentral: do not
 * retry revoke errors). Network errors and 5xx propagate.
 */
export async function revokeServerSide(
  endpoint: TokenEndpoint,
  credentials: AppCredentials,
  tokens: TokenPair,
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await endpoint.revoke(credentials, tokens.refreshToken, signal);
  } catch (error) {
    if (!(error instanceof TokenRequestRejected)) throw error;
    log.debug(`the server refused the revoke (${error.message}); the session is already over`);
  }
}
