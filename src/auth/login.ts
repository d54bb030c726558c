import type { StoreKind } from "../context.js";
import { OperationError } from "../errors.js";
import type { Logger } from "../ui/logger.js";
import { type CredentialSources, resolveCredentials } from "./credentials.js";
import { CredentialsRejectedError, KeychainUnavailableError, StoreCorruptError } from "./errors.js";
import type { TokenEndpoint } from "./platform.js";
import { type AppCredentials, type ProfileRecord, refreshTokenAlive, type TokenPair } from "./profile.js";
import { revokeServerSide } from "./revoke.js";
import type { AuthServices } from "./services.js";
import { writeToChosenStore } from "./store/select.js";
import type { ProfileStore } from "./store/types.js";
import { TokenRequestRejected } from "./token-failure.js";

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
 * A usable pair for the same server, app and JWT is kept without any token request (a new login would open
 * another of the user's five sessions). Runs under the profile's lock so it never races a refreshing download.
 */
export async function login(
  services: AuthServices,
  request: LoginRequest,
  log: Logger,
  signal?: AbortSignal,
): Promise<LoginOutcome> {
  const located = await services.locate();
  const previous = await readForLogin(located, services.requestedStore, (line) => log.warn(line));
  const credentials = await resolveCredentials({ ...request.sources, stored: previous?.credentials });

  return services.lock.withLock(async () => {
    // Re-read under the lock: a download may have rotated the pair since the first read (warned once already).
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
      const store =
        unchanged && located
          ? located
          : await persist({ ...current, credentials }, target, located, services, log);
      return outcome(store, active.tokens, true);
    }
    if (usable && located) {
      // --force, or other credentials: end the old session first so it does not linger as one of the five.
      await revokeServerSide(services.endpoint, current.credentials, active.tokens, log, signal);
      await located.write({ ...current, login: { state: "ended", reason: "revoked", endedAt: Date.now() } });
      log.info(`revoked the previous login of profile "${services.profile}"`);
    }

    const tokens = await grant(services.endpoint, credentials, signal);
    const record: ProfileRecord = {
      version: 1,
      credentials,
      login: { state: "active", tokens, loggedInAt: Date.now() },
    };
    return outcome(await persist(record, target, located, services, log), tokens, false);
  }, signal);
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

/** Same server, app and user: the stored pair serves this login. */
function sameLogin(a: AppCredentials, b: AppCredentials): boolean {
  return a.server === b.server && a.clientId === b.clientId && a.jwt === b.jwt;
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

async function persist(
  record: ProfileRecord,
  target: StoreKind | undefined,
  located: ProfileStore | undefined,
  services: AuthServices,
  log: Logger,
): Promise<ProfileStore> {
  if (located && located.kind === target) {
    await located.write(record);
    return located;
  }
  try {
    return await writeToChosenStore(record, services.profile, target, services.location, log);
  } catch (error) {
    if (error instanceof KeychainUnavailableError) throw error;
    throw new OperationError(`could not store the login: ${(error as Error).message}`, { cause: error });
  }
}
