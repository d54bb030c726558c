import type { CommandContext, StoreKind } from "../context.js";
import { configDir } from "../paths.js";
import { SdkTokenEndpoint, type TokenEndpoint } from "./platform.js";
import { type ProfileLock, RefreshLock } from "./refresh-lock.js";
import { OsKeyVault } from "./store/keychain.js";
import { checkProfileName, locateStore, lockTarget, type StoreLocation } from "./store/select.js";
import type { ProfileStore } from "./store/types.js";

/** Everything the auth services need for one profile, built from the command context (the composition root). */
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

export function authServices(ctx: CommandContext): AuthServices {
  const profile = checkProfileName(ctx.options.profile);
  const location: StoreLocation = { dir: configDir(), vault: new OsKeyVault(ctx.env) };
  return {
    profile,
    requestedStore: ctx.options.store,
    location,
    lock: new RefreshLock(lockTarget(location, profile)),
    endpoint: new SdkTokenEndpoint(ctx.log),
    async locate() {
      const store = await locateStore(profile, location);
      if (store && ctx.options.store && store.kind !== ctx.options.store) {
        ctx.log.debug(
          `profile "${profile}" is kept in the ${store.kind} store; --store applies to 'login' only`,
        );
      }
      return store;
    },
  };
}
