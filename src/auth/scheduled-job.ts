import type { ProfileRecord } from "./profile.js";
import type { AuthServices } from "./services.js";
import { asScheduledJob } from "./store/keychain.js";
import { KeychainStore } from "./store/keychain-store.js";
import type { ProfileStore } from "./store/types.js";

/**
 * The profile's record read the way a scheduled job (cron, a system service: no terminal, no D-Bus session
 * address) reads it: a keychain profile's key only through the user's bus. Undefined when nothing is stored;
 * throws what that job's read would (KeychainUnavailableError, StoreCorruptError, a wrong shared-store key).
 */
export async function readAsScheduledJob(
  services: AuthServices,
  env: NodeJS.ProcessEnv,
): Promise<{ store: ProfileStore; record: ProfileRecord | undefined } | undefined> {
  const store = await services.locate();
  if (!store) return undefined;
  const record =
    store.kind === "keychain"
      ? await asScheduledJob(env, (vault) => new KeychainStore(store.profile, store.path, vault).read())
      : await store.read();
  return { store, record };
}
