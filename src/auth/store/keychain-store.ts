import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { loginCommand } from "../../errors.js";
import { readIfExists } from "../../fs-util.js";
import { KeychainUnavailableError, StoreCorruptError } from "../errors.js";
import type { ProfileRecord } from "../profile.js";
import { checkPrivateDirWritable, writePrivateFileAtomic } from "./atomic-file.js";
import { parseStoredJson } from "./file-store.js";
import type { KeyVault } from "./keychain.js";
import { newKey, newKeyId, openingStore, parseEnvelope, seal, unseal } from "./sealed.js";
import type { ProfileStore } from "./types.js";

interface ProfileKey {
  id: string;
  key: Buffer;
}

/**
 * Store `keychain`: the keychain holds one random 256-bit key per profile (a Windows credential holds at most
 * 2560 bytes, too little for a token pair plus app credentials), the record lives AES-256-GCM-sealed in a 0600
 * file. Without the keychain the file is useless. The key's keychain account is `<profile>:<keyId>`, the keyId
 * is kept in the envelope, so two config directories (or test runs) never overwrite each other's key.
 */
export class KeychainStore implements ProfileStore {
  readonly kind = "keychain";
  private cachedKey: ProfileKey | undefined;

  constructor(
    readonly profile: string,
    readonly path: string,
    private readonly vault: KeyVault,
  ) {}

  async read(): Promise<ProfileRecord | undefined> {
    const text = await readIfExists(this.path);
    if (text === undefined) return undefined;
    const envelope = openingStore(this.path, () => parseEnvelope(text));
    const key = await this.keyFor(envelope.keyId).catch((error: unknown) => {
      throw error instanceof KeychainUnavailableError ? withFix(error, this.profile) : error;
    });
    const plaintext = openingStore(this.path, () => unseal(envelope, key.key, this.profile));
    return parseStoredJson(plaintext, this.path);
  }

  async checkWritable(): Promise<void> {
    await checkPrivateDirWritable(dirname(this.path));
    // One keychain read: the profile's own key if it has one, else an account that never exists.
    if (this.cachedKey === undefined && (await this.existingKey()) === undefined) {
      await this.vault.get(this.account("probe"));
    }
  }

  async write(record: ProfileRecord): Promise<void> {
    const key = this.cachedKey ?? (await this.existingKey()) ?? (await this.createKey());
    const envelope = seal(JSON.stringify(record), key.key, key.id, this.profile);
    await writePrivateFileAtomic(this.path, `${JSON.stringify(envelope, null, 2)}\n`);
  }

  async remove(): Promise<void> {
    const text = await readIfExists(this.path);
    let keyId: string | undefined;
    try {
      keyId = text === undefined ? undefined : parseEnvelope(text).keyId;
    } catch {
      keyId = undefined; // a corrupt envelope cannot name its key; the file goes anyway
    }
    keyId ??= this.cachedKey?.id;
    // The file first: without it the profile is gone even if the keychain cannot be reached to drop the key.
    await rm(this.path, { force: true });
    this.cachedKey = undefined;
    if (keyId !== undefined) await this.vault.delete(this.account(keyId));
  }

  /** The key of the profile's current file, when that file is readable; a corrupt file gets a fresh key. */
  private async existingKey(): Promise<ProfileKey | undefined> {
    const text = await readIfExists(this.path);
    if (text === undefined) return undefined;
    let keyId: string;
    try {
      keyId = parseEnvelope(text).keyId;
    } catch {
      return undefined;
    }
    const key = await this.vault.get(this.account(keyId));
    if (key === null) return undefined;
    this.cachedKey = { id: keyId, key };
    return this.cachedKey;
  }

  private async keyFor(keyId: string): Promise<ProfileKey> {
    if (this.cachedKey?.id === keyId) return this.cachedKey;
    const key = await this.vault.get(this.account(keyId));
    if (key === null) throw new StoreCorruptError(this.path, "its key is missing from the OS keychain");
    this.cachedKey = { id: keyId, key };
    return this.cachedKey;
  }

  private async createKey(): Promise<ProfileKey> {
    const created = { id: newKeyId(), key: newKey() };
    await this.vault.set(this.account(created.id), created.key);
    this.cachedKey = created;
    return created;
  }

  private account(keyId: string): string {
    return `${this.profile}:${keyId}`;
  }
}

/** A profile whose key the job cannot reach: the line says how a scheduled job gets a store it can reach. */
function withFix(error: KeychainUnavailableError, profile: string): KeychainUnavailableError {
  const login = loginCommand(profile, "file");
  return new KeychainUnavailableError(
    `${error.message}; profile "${profile}" keeps its key there. For a scheduled job (cron, no desktop session) log in with: ${login}, or run the job as a systemd user service (docs/scheduling.md)`,
    { cause: error },
  );
}
