import type { Logger } from "../log/logger.js";
import { configDir } from "../paths.js";
import { describeWait } from "../waits.js";
import { type ProfileLock, RefreshLock } from "./refresh-lock.js";
import { SharedLock } from "./shared-lock.js";
import { auditPrivacy } from "./store/atomic-file.js";
import { OsKeyVault } from "./store/keychain.js";
import { checkProfileName, locateStore, lockTarget, type StoreLocation } from "./store/select.js";
import { type SharedObjects, sharedKeys } from "./store/shared-store.js";
import { loadStoreKey } from "./store/store-key.js";
import type { ProfileStore, StoreKind } from "./store/types.js";
import { SdkTokenEndpoint, type TokenEndpoint } from "./token-endpoint.js";

/** What selects and reaches one profile: plain values, so the auth layer never sees the CLI's context. */
export interface AuthSettings {
  profile: string;
  /** `--store` / RC_RECORDINGS_STORE; undefined = default (keychain, else file with a warning). */
  store: "keychain" | "file" | undefined;
  /**
   * `--store s3://…`: the bucket prefix of a shared store (built by the composition root from the S3
   * destination's client and lock). Its profiles live only there, sealed under the store key from the
   * environment; `store` is then ignored.
   */
  shared?: SharedObjects | undefined;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/** Everything the auth services need for one profile (built once, by the CLI's composition root). */
export interface AuthServices {
  profile: string;
  /** `--store` / RC_RECORDINGS_STORE; undefined = default (keychain, else file with a warning). */
  requestedStore: StoreKind | undefined;
  location: StoreLocation;
  lock: ProfileLock;
  endpoint: TokenEndpoint;
  /** The store that holds the profile now, if any. */
  locate(): Promise<ProfileStore | undefined>;
}

export function authServices(settings: AuthSettings): AuthServices {
  const profile = checkProfileName(settings.profile);
  // The store key is checked first: without it nothing in a shared store can be read or written (exit 2).
  const shared = settings.shared && { objects: settings.shared, key: loadStoreKey(settings.env) };
  const location: StoreLocation = { dir: configDir(), vault: new OsKeyVault(settings.env), shared };
  const audited = new Set<string>();
  const onLongWait = (maxWaitMs: number) =>
    settings.log.info(
      `waiting for the token lock: another rc-recordings process of profile "${profile}" has held it for 30 s (waiting up to ${describeWait(maxWaitMs)})`,
      { event: "wait", waitMs: maxWaitMs, reason: "token lock held by another process" },
    );
  return {
    profile,
    requestedStore: shared ? "s3" : settings.store,
    location,
    lock: shared
      ? new SharedLock(shared.objects, sharedKeys(profile).lock, { onLongWait })
      : new RefreshLock(lockTarget(location, profile), { onLongWait }),
    endpoint: new SdkTokenEndpoint(settings.log),
    async locate() {
      const store = await locateStore(profile, location);
      if (store && store.kind !== "s3" && !audited.has(store.path)) {
        audited.add(store.path); // `login` locates twice; one warning is enough
        await auditPrivacy(store.path, (line) => settings.log.warn(line));
      }
      if (store && settings.store && store.kind !== settings.store) {
        settings.log.debug(
          `profile "${profile}" is kept in the ${store.kind} store; --store applies to 'login' only`,
        );
      }
      return store;
    },
  };
}
