import type { ProfileRecord } from "../profile.js";

/**
 * Where a profile can live: the OS keychain (sealed file + key), a plain owner-only file, or sealed in a bucket
 * shared by many machines (`--store s3://BUCKET/PREFIX`).
 */
export type StoreKind = "keychain" | "file" | "s3";

/** A shared store's place, as `--store s3://BUCKET/PREFIX` names it (prefix "" or ending in "/"). */
export interface SharedStoreUrl {
  kind: "s3";
  bucket: string;
  prefix: string;
}

/** What `--store` / RC_RECORDINGS_STORE asks for: a local backend by name, or a shared store. */
export type StoreRequest = "keychain" | "file" | SharedStoreUrl;

/** Where one profile's record lives. Only the auth session, `login` and `token revoke` write to it. */
export interface ProfileStore {
  readonly kind: StoreKind;
  readonly profile: string;
  /** What holds the record: a file of plain JSON (`file`) or the sealed envelope (`keychain`), or an object URL (`s3`). */
  readonly path: string;
  /** The record, or undefined when none exists. Throws StoreCorruptError / KeychainUnavailableError. */
  read(): Promise<ProfileRecord | undefined>;
  /**
   * A cheap check that `write` would succeed (the folder can be created and written; the keychain answers), made
   * before a token request whose result must be stored. Throws what `write` would.
   */
  checkWritable(): Promise<void>;
  /** Atomically replace the record. */
  write(record: ProfileRecord): Promise<void>;
  /** Delete the record and everything that protects it (the keychain key). */
  remove(): Promise<void>;
}
