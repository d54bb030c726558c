import type { ProfileRecord } from "../profile.js";

/** The two places a profile can live: the OS keychain (sealed file + key) or a plain owner-only file. */
export type StoreKind = "keychain" | "file";

/** Where one profile's record lives. Only the auth session, `login` and `token revoke` write to it. */
export interface ProfileStore {
  readonly kind: StoreKind;
  readonly profile: string;
  /** The file that holds the record: plain JSON (`file`) or the encrypted envelope (`keychain`). */
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
