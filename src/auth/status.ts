import type { AccessTokenProvider } from "../api/types.js";
import { CliError, LoginRequiredError, OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { refreshTokenAlive } from "./profile.js";
import type { RecoveryDiagnosis } from "./recovery-cause.js";
import type { AuthServices } from "./services.js";
import { requireActive, sessionOver } from "./session.js";
import type { StoreKind } from "./store/types.js";

/** What `token status` reports. Times are epoch ms; null where there is nothing to report. */
export interface TokenStatus {
  profile: string;
  server: string | null;
  store: StoreKind | null;
  storePath: string | null;
  loggedIn: boolean;
  ownerId: string | null;
  scope: string | null;
  accessTokenExpiresAt: number | null;
  refreshTokenExpiresAt: number | null;
  loggedInAt: number | null;
  lastRefreshAt: number | null;
  /** Result of `--verify`; null when not asked. */
  verified: boolean | null;
  /** `--verify` met a 401 and recovered (or could not): its likely cause; null otherwise. */
  recovery: RecoveryDiagnosis | null;
  /** Why the profile is not usable (decides the exit code: 4 for login problems, 1 otherwise). */
  problem: CliError | undefined;
}

/**
 * Read the profile's login without touching the network, or with `verify` make one Light API call through an
 * auth session (which renews the pair if it must, exactly as a download would).
 */
export async function tokenStatus(
  services: AuthServices,
  options: {
    /** `--verify`: one authenticated API call through the given session (the caller builds the API client). */
    verify: ((tokens: AccessTokenProvider) => Promise<unknown>) | undefined;
    log: Logger;
    signal?: AbortSignal;
  },
): Promise<TokenStatus> {
  const status: TokenStatus = {
    profile: services.profile,
    server: null,
    store: null,
    storePath: null,
    loggedIn: false,
    ownerId: null,
    scope: null,
    accessTokenExpiresAt: null,
    refreshTokenExpiresAt: null,
    loggedInAt: null,
    lastRefreshAt: null,
    verified: null,
    recovery: null,
    problem: undefined,
  };
  const store = await services.locate();
  if (store) {
    status.store = store.kind;
    status.storePath = store.path;
  }
  const record = await store?.read();
  if (record) status.server = record.credentials.server;
  let active: ReturnType<typeof requireActive>;
  try {
    active = requireActive(record, services.profile);
  } catch (error) {
    status.problem = error as LoginRequiredError;
    return status;
  }
  const tokens = active.login.tokens;
  Object.assign(status, {
    ownerId: tokens.ownerId || null,
    scope: tokens.scope || null,
    accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    loggedInAt: active.login.loggedInAt,
    lastRefreshAt: active.login.lastRefreshAt ?? null,
    loggedIn: refreshTokenAlive(tokens, Date.now()),
  });
  if (!status.loggedIn) status.problem = new LoginRequiredError("the stored refresh token has expired");
  if (!options.verify || !store) return status;

  const session = sessionOver(services, store, active, options);
  try {
    await options.verify(session);
    status.verified = true;
    status.loggedIn = true;
    status.problem = undefined;
  } catch (error) {
    status.verified = false;
    status.problem =
      error instanceof CliError
        ? error
        : new OperationError(`verification failed: ${String(error)}`, { cause: error });
    if (error instanceof LoginRequiredError) status.loggedIn = false;
  }
  status.recovery = session.lastRecovery ?? null;
  // The session may have renewed the pair (or logged in again): report what is stored now.
  Object.assign(status, session.snapshot);
  const reread = await store.read().catch(() => undefined);
  if (reread?.login.state === "active") {
    status.loggedInAt = reread.login.loggedInAt;
    status.lastRefreshAt = reread.login.lastRefreshAt ?? null;
  }
  return status;
}
