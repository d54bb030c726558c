import { type CliError, InterruptedError, OperationError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { type CredentialSources, resolveCredentials } from "./credentials.js";
import { CredentialsRejectedError, KeychainUnavailableError, StoreCorruptError } from "./errors.js";
import { type AppCredentials, type ProfileRecord, refreshTokenAlive, type TokenPair } from "./profile.js";
import { revokeServerSide } from "./revoke.js";
import type { AuthServices } from "./services.js";
import { chooseStore, writeAsOnlyCopy } from "./store/select.js";
import type { ProfileStore, StoreKind } from "./store/types.js";
import type { TokenEndpoint } from "./token-endpoint.js";
import { TokenRequestRejected } from "./token-failure.js";
import { withTokenLock } from "./token-lock.js";

export interface LoginRequest {
  /** Revoke the stored login first, then log in again. */
  force: boolean;
  /** Where credentials come from besides what the profile stored. */
  sources: Omit<CredentialSources, "stored">;
}

export interface LoginOutcome {
  profile: string;
  server: string;
  store: StoreKind;
  storePath: string;
  /** True when a usable pair was already stored and no token request was made. */
  reused: boolean;
  tokens: TokenPair;
}

/**
 * `login`: one JWT grant, and the pair plus the app credentials stored so unattended runs can recover later.
 * A usable pair for the same server, app and JWT (the JWT names the user) is kept without any token request (a
 * new login would open another of the user's five sessions); a different JWT is another user, so that login is
 * ended and replaced. Runs under the profile's lock so it never races a refreshing download. The store is
 * checked writable before any token request, and a new session that still cannot be stored is revoked again.
 */
export async function login(
  services: AuthServices,
  request: LoginRequest,
  log: Logger,
  signal?: AbortSignal,
): Promise<LoginOutcome> {
  // Only to complete the credentials (stored values fill what flags and environment leave out). This may prompt,
  // and a person typing must not hold the lock that every refreshing download waits for; nothing here is decided.
  const peeked = await services.locate();
  const previous = await readForLogin(peeked, services.requestedStore, (line) => log.warn(line));
  const credentials = await resolveCredentials({ ...request.sources, stored: previous?.credentials });

  return withTokenLock(
    services.lock,
    async (lease) => {
      // Located and read again under the lock: another login may have created the profile since the peek, or a
      // download may have rotated its pair (a corrupt store was warned about once already).
      const located = await services.locate();
      const current = await readForLogin(located, services.requestedStore, () => undefined);
      const active = current?.login.state === "active" ? current.login : undefined;
      const target = services.requestedStore ?? located?.kind;
      const outcome = (store: ProfileStore, tokens: TokenPair, reused: boolean): LoginOutcome => ({
        profile: services.profile,
        server: credentials.server,
        store: store.kind,
        storePath: store.path,
        reused,
        tokens,
      });

      const usable = current && active && refreshTokenAlive(active.tokens, Date.now());
      if (usable && !request.force && sameLogin(current.credentials, credentials)) {
        const unchanged =
          located?.kind === target && current.credentials.clientSecret === credentials.clientSecret;
        if (unchanged && located) return outcome(located, active.tokens, true);
        const store = await destination(target, located, services, log);
        await save(store, { ...current, credentials }, services);
        return outcome(store, active.tokens, true);
      }

      // A new session follows. Check first that it can be stored: one that cannot would stay open as one of the
      // user's five sessions (and with --force the old one would already be gone).
      const store = await destination(target, located, services, log);
      if (usable && located) {
        if (located !== store) await located.checkWritable(); // it is marked ended below
        log.info(
          request.force
            ? `--force: ending the current login of profile "${services.profile}" first`
            : `profile "${services.profile}" is logged in with another ${differences(current.credentials, credentials)}; ending that login first`,
        );
        // End the old session first so it does not linger as one of the five.
        lease.assertHeld();
        await revokeServerSide(services.endpoint, current.credentials, active.tokens, log, signal);
        await located.write({
          ...current,
          login: { state: "ended", reason: "revoked", endedAt: Date.now() },
        });
        log.info(`revoked the previous login of profile "${services.profile}"`);
      }

      lease.assertHeld();
      const tokens = await grant(services.endpoint, credentials, signal);
      const record: ProfileRecord = {
        version: 1,
        credentials,
        login: { state: "active", tokens, loggedInAt: Date.now() },
      };
      try {
        // A Ctrl-C that arrived while the grant was under way: the user asked for nothing to be kept.
        if (signal?.aborted) throw new InterruptedError();
        await save(store, record, services);
      } catch (error) {
        throw await endUnstoredSession(services.endpoint, credentials, tokens, error, log);
      }
      return outcome(store, tokens, false);
    },
    log,
    signal,
  );
}

/** The JWT grant; a refusal becomes one clear line and exit 4 (nothing is stored). */
async function grant(
  endpoint: TokenEndpoint,
  credentials: AppCredentials,
  signal?: AbortSignal,
): Promise<TokenPair> {
  try {
    return await endpoint.jwtGrant(credentials, signal);
  } catch (error) {
    if (!(error instanceof TokenRequestRejected)) throw error;
    throw new CredentialsRejectedError(
      `login rejected by ${credentials.server}: ${error.message}; check the client id, client secret and JWT`,
      { cause: error },
    );
  }
}

/** Same server, app and user (the JWT identifies the user): the stored pair serves this login. */
function sameLogin(a: AppCredentials, b: AppCredentials): boolean {
  return a.server === b.server && a.clientId === b.clientId && a.jwt === b.jwt;
}

/** What differs between the stored login and this one, for the message (never the values). */
function differences(stored: AppCredentials, wanted: AppCredentials): string {
  const parts = [
    stored.server !== wanted.server && "server",
    stored.clientId !== wanted.clientId && "app (client id)",
    stored.jwt !== wanted.jwt && "JWT (another user)",
  ].filter((part): part is string => typeof part === "string");
  return parts.join(" and ");
}

/**
 * The profile's current record for `login`. A corrupt store is replaced (it is what `login` is for); a keychain
 * that cannot be reached is an error unless the user asked to move the profile to the file store.
 */
async function readForLogin(
  store: ProfileStore | undefined,
  requested: StoreKind | undefined,
  warn: (line: string) => void,
): Promise<ProfileRecord | undefined> {
  if (!store) return undefined;
  try {
    return await store.read();
  } catch (error) {
    if (error instanceof StoreCorruptError) {
      warn(`${error.path} cannot be read; this login replaces it`);
      return undefined;
    }
    if (error instanceof KeychainUnavailableError && requested === "file" && store.kind === "keychain") {
      warn(`${error.message}; the keychain-held login of this profile is replaced by one in the file store`);
      return undefined;
    }
    throw error;
  }
}

/** The store this login writes to, checked writable (no token request has been made yet). */
async function destination(
  target: StoreKind | undefined,
  located: ProfileStore | undefined,
  services: AuthServices,
  log: Logger,
): Promise<ProfileStore> {
  try {
    if (located && located.kind === target) {
      await located.checkWritable();
      return located;
    }
    return await chooseStore(services.profile, target, services.location, log);
  } catch (error) {
    throw cannotStore(error);
  }
}

async function save(store: ProfileStore, record: ProfileRecord, services: AuthServices): Promise<void> {
  try {
    await writeAsOnlyCopy(store, record, services.location);
  } catch (error) {
    throw cannotStore(error);
  }
}

function cannotStore(error: unknown): OperationError {
  if (error instanceof KeychainUnavailableError) return error;
  return new OperationError(`cannot store the login: ${(error as Error).message}`, { cause: error });
}

/**
 * A session was opened but not stored (the store failed, or Ctrl-C came first): revoke it (best effort, without
 * the aborted signal) so it does not linger as one of the user's five, and say whether that worked. An
 * interruption stays an interruption (exit 130).
 */
async function endUnstoredSession(
  endpoint: TokenEndpoint,
  credentials: AppCredentials,
  tokens: TokenPair,
  error: unknown,
  log: Logger,
): Promise<CliError> {
  const interrupted = error instanceof InterruptedError;
  const reason = interrupted ? "interrupted before the login was stored" : (error as Error).message;
  const failure = (message: string) =>
    interrupted ? new InterruptedError(message) : new OperationError(message, { cause: error });
  try {
    await revokeServerSide(endpoint, credentials, tokens, log);
    return failure(`${reason}; the new session was revoked again and nothing was stored`);
  } catch (revokeError) {
    log.debug(`revoking the unstored session failed: ${(revokeError as Error).message}`);
    return failure(`${reason}; the new session could not be revoked either and stays open until it expires`);
  }
}
