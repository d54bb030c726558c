import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { readIfExists } from "../../fs-util.js";
import { StoreCorruptError } from "../errors.js";
import { InvalidRecordError, type ProfileRecord, parseProfileRecord } from "../profile.js";
import { checkPrivateDirWritable, writePrivateFileAtomic } from "./atomic-file.js";
import type { ProfileStore } from "./types.js";

/** Store `file`: the record as plain JSON, mode 0600 in a 0700 directory, for headless hosts without a keychain. */
export class FileStore implements ProfileStore {
  readonly kind = "file";

  constructor(
    readonly profile: string,
    readonly path: string,
  ) {}

  async read(): Promise<ProfileRecord | undefined> {
    const text = await readIfExists(this.path);
    if (text === undefined) return undefined;
    return parseStoredJson(text, this.path);
  }

  async checkWritable(): Promise<void> {
    await checkPrivateDirWritable(dirname(this.path));
  }

  async write(record: ProfileRecord): Promise<void> {
    await writePrivateFileAtomic(this.path, `${JSON.stringify(record, null, 2)}\n`);
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

/** Parse a record's JSON text; anything malformed becomes a StoreCorruptError naming the file. */
export function parseStoredJson(text: string, path: string): ProfileRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StoreCorruptError(path, text.trim() === "" ? "the file is empty" : "not valid JSON");
  }
  try {
    return parseProfileRecord(raw);
  } catch (error) {
    if (error instanceof InvalidRecordError) throw new StoreCorruptError(path, error.message);
    throw error;
  }
}
