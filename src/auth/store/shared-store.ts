import { UsageError } from "../../errors.js";
import { StoreCorruptError } from "../errors.js";
import type { ProfileRecord } from "../profile.js";
import { parseStoredJson } from "./file-store.js";
import { openingStore, parseEnvelope, seal, unseal } from "./sealed.js";
import type { StoreKey } from "./store-key.js";
import type { ProfileStore } from "./types.js";

/**
 * The object store a shared token store lives in (a bucket prefix). The composition root supplies it from the
 * S3 destination's client and lock (destination/s3/shared-objects.ts), so auth neither loads nor duplicates an
 * S3 client. Keys are relative to the store's prefix.
 */
export interface SharedObjects {
  /** `s3://bucket/prefix/`, for messages. */
  readonly where: string;
  readText(key: string): Promise<string | undefined>;
  /** The keys of every object directly inside the folder `prefix` ("profiles/"), relative to the store. */
  keys(prefix: string): Promise<string[]>;
  exists(key: string): Promise<boolean>;
  write(key: string, body: string): Promise<void>;
  remove(key: string): Promise<void>;
  /**
   * Take the exclusive lock `key`, with the archive lock's rules (conditional create, heartbeat, takeover of a
   * dead or silent holder). Rejects with BusyError while a live holder has it.
   */
  lock(key: string): Promise<{ release(): Promise<void> }>;
}

/** The record of `profile` and its lock, inside a shared store. */
export const sharedKeys = (profile: string) => ({
  record: `${SHARED_PROFILES}${profile}.sealed.json`,
  lock: `${SHARED_PROFILES}${profile}.lock.json`,
});

/** The folder of a shared store that holds its profiles' records and locks. */
export const SHARED_PROFILES = "profiles/";

/** The one line for a store sealed under another key: never taken for "corrupt", which `login` would replace. */
export class WrongStoreKeyError extends UsageError {
  readonly endsRun = true;
}

/**
 * Store `s3://…`: one login shared by many machines. The record is AES-256-GCM sealed (the keychain store's
 * envelope, the profile name bound in) under the store key every machine is given; the bucket only ever holds
 * ciphertext. The envelope's keyId is the key's fingerprint, so a machine with another key says so in one line
 * instead of failing to authenticate (which would look like a damaged record).
 */
export class SharedStore implements ProfileStore {
  readonly kind = "s3";
  readonly path: string;
  private readonly key: string;

  constructor(
    readonly profile: string,
    private readonly objects: SharedObjects,
    private readonly storeKey: StoreKey,
  ) {
    this.key = sharedKeys(profile).record;
    this.path = `${objects.where}${this.key}`;
  }

  async exists(): Promise<boolean> {
    return this.objects.exists(this.key);
  }

  async read(): Promise<ProfileRecord | undefined> {
    const text = await this.objects.readText(this.key);
    if (text === undefined) return undefined;
    const envelope = openingStore(this.path, () => parseEnvelope(text));
    if (envelope.keyId !== this.storeKey.id) {
      throw new WrongStoreKeyError(
        `cannot open the store: wrong key (${this.path} was sealed with another store key than the one given)`,
      );
    }
    const plaintext = openingStore(this.path, () => unseal(envelope, this.storeKey.key, this.profile));
    return parseStoredJson(plaintext, this.path);
  }

  async checkWritable(): Promise<void> {
    // Reading proves credentials, bucket and permission; a store sealed under another key is refused before a
    // token request whose pair could then not be stored where the other machines find it.
    await this.read().catch((error: unknown) => {
      if (error instanceof StoreCorruptError) return undefined; // login replaces a damaged record
      throw error;
    });
  }

  async write(record: ProfileRecord): Promise<void> {
    const envelope = seal(JSON.stringify(record), this.storeKey.key, this.storeKey.id, this.profile);
    await this.objects.write(this.key, `${JSON.stringify(envelope, null, 2)}\n`);
  }

  async remove(): Promise<void> {
    await this.objects.remove(this.key);
  }
}
