import type { Logger } from "../log/logger.js";
import type { AppCredentials, TokenPair } from "./profile.js";
import type { AuthServices } from "./services.js";
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
  const store = await services.locate();
  if (!store) return { revoked: false, reason: "nothing stored" };
  return withTokenLock(
    services.lock,
    async () => {
      const record = await store.read();
      if (!record) return { revoked: false, reason: "nothing stored" } as const;
      if (record.login.state !== "active") return { revoked: false, reason: "already ended" } as const;
      await revokeServerSide(services.endpoint, record.credentials, record.login.tokens, log, signal);
      await store.write({ ...record, login: { state: "ended", reason: "revoked", endedAt: Date.now() } });
      return { revoked: true } as const;
    },
    log,
    signal,
  );
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
