import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import { KeychainUnavailableError } from "../errors.js";
import type { ProfileRecord } from "../profile.js";
import { FileStore } from "./file-store.js";
import type { KeyVault } from "./keychain.js";
import { KeychainStore } from "./keychain-store.js";
import { SHARED_PROFILES, type SharedObjects, SharedStore } from "./shared-store.js";
import type { StoreKey } from "./store-key.js";
import type { ProfileStore, StoreKind } from "./types.js";

/** Where profiles live and how the keychain is reached; injectable for tests. */
export interface StoreLocation {
  /** The config directory (profiles are kept in `<dir>/profiles/`). */
  dir: string;
  vault: KeyVault;
  /** With `--store s3://…`: the shared store, and then the only place profiles are looked for and kept. */
  shared?: { objects: SharedObjects; key: StoreKey } | undefined;
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The file-store name of a profile ending in this is the keychain-store name of another profile (`X.sealed` →
 * `X.sealed.json`, which is where profile `X` keeps its sealed record), compared ignoring case as macOS and
 * Windows do.
 */
const SEALED_SUFFIX = /\.sealed$/i;

/**
 * Profile names become file names: keep them to a safe alphabet (no path separators, no dot-dot), and such that
 * no two profiles, in whichever store, ever share a file.
 */
export function checkProfileName(profile: string): string {
  if (!PROFILE_NAME.test(profile)) {
    throw new UsageError(`invalid profile name "${profile}": use letters, digits, '.', '_' or '-' (max 64)`);
  }
  if (SEALED_SUFFIX.test(profile)) {
    throw new UsageError(
      `invalid profile name "${profile}": a name ending in ".sealed" would share its file with profile "${profile.slice(0, -7)}"`,
    );
  }
  return profile;
}

export function profilesDir(location: StoreLocation): string {
  return join(location.dir, "profiles");
}

/** The lock file path prefix for the profile (proper-lockfile adds `.lock`). */
export function lockTarget(location: StoreLocation, profile: string): string {
  return join(profilesDir(location), checkProfileName(profile));
}

export function storeOf(kind: StoreKind, profile: string, location: StoreLocation): ProfileStore {
  if (location.shared || kind === "s3") {
    if (!location.shared) throw new Error("a shared store needs its objects and key");
    return new SharedStore(checkProfileName(profile), location.shared.objects, location.shared.key);
  }
  const base = join(profilesDir(location), checkProfileName(profile));
  return kind === "keychain"
    ? new KeychainStore(profile, `${base}.sealed.json`, location.vault)
    : new FileStore(profile, `${base}.json`);
}

/**
 * The store that holds the profile, or undefined when it was never stored. Which file exists IS the record of
 * the backend, so a profile kept in the keychain is never mistaken for "not logged in" when the keychain is
 * unreachable: reading it fails loudly instead. (Writes remove the other backend's file.)
 */
export async function locateStore(
  profile: string,
  location: StoreLocation,
): Promise<ProfileStore | undefined> {
  if (location.shared) {
    const shared = storeOf("s3", profile, location) as SharedStore;
    return (await shared.exists()) ? shared : undefined;
  }
  for (const kind of ["keychain", "file"] as const) {
    const store = storeOf(kind, profile, location);
    if (await exists(store.path)) return store;
  }
  return undefined;
}

/**
 * The names of the profiles stored in `location`, sorted: the files of the local stores (`X.json`: file,
 * `X.sealed.json`: keychain), or the records of the shared store. Names that are not valid profile names (a
 * stray file) are left out.
 */
export async function storedProfiles(location: StoreLocation): Promise<string[]> {
  const [names, record] = location.shared
    ? [
        (await location.shared.objects.keys(SHARED_PROFILES)).map((key) => key.slice(SHARED_PROFILES.length)),
        /^(.+)\.sealed\.json$/i, // beside each record its lock (`X.lock.json`) may lie
      ]
    : [
        await readdir(profilesDir(location)).catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return [] as string[];
          throw error;
        }),
        /^(.+?)(?:\.sealed)?\.json$/i,
      ];
  const profiles = new Set<string>();
  for (const name of names) {
    const profile = record.exec(name)?.[1];
    if (profile !== undefined && PROFILE_NAME.test(profile) && !SEALED_SUFFIX.test(profile))
      profiles.add(profile);
  }
  return [...profiles].sort();
}

/**
 * The backend `login` writes to, checked writable BEFORE any token request. `requested` undefined means the
 * default: the keychain, and when it is unreachable the plain file with ONE warning naming the file and the flag
 * that silences it.
 */
export async function chooseStore(
  profile: string,
  requested: StoreKind | undefined,
  location: StoreLocation,
  log: Logger,
): Promise<ProfileStore> {
  const store = storeOf(requested ?? "keychain", profile, location);
  try {
    await store.checkWritable();
    return store;
  } catch (error) {
    if (requested !== undefined || !(error instanceof KeychainUnavailableError)) throw error;
    const file = storeOf("file", profile, location);
    log.warn(
      `${error.message}; storing the login unencrypted in ${file.path} (mode 0600) instead — pass --store file to silence this warning`,
    );
    await file.checkWritable();
    return file;
  }
}

/** Write the record into `store` and remove the other backend's copy (if any): which file exists IS the backend. */
export async function writeAsOnlyCopy(
  store: ProfileStore,
  record: ProfileRecord,
  location: StoreLocation,
): Promise<void> {
  await store.write(record);
  if (store.kind === "s3") return; // the shared store is the only place its profiles live
  const other = storeOf(store.kind === "keychain" ? "file" : "keychain", store.profile, location);
  if (await exists(other.path)) await other.remove().catch(() => undefined);
}

/** `chooseStore` and `writeAsOnlyCopy` in one step; returns the store that now holds the profile. */
export async function writeToChosenStore(
  record: ProfileRecord,
  profile: string,
  requested: StoreKind | undefined,
  location: StoreLocation,
  log: Logger,
): Promise<ProfileStore> {
  const store = await chooseStore(profile, requested, location, log);
  await writeAsOnlyCopy(store, record, location);
  return store;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
