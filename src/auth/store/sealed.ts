import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { StoreCorruptError } from "../errors.js";

/**
 * The on-disk form of a keychain-protected profile: AES-256-GCM with a fresh 96-bit IV per write and the
 * profile name as associated data, so a file copied over another profile's fails to open. `keyId` names the
 * keychain item holding the key (not secret).
 */
export interface SealedEnvelope {
  format: typeof FORMAT;
  version: 1;
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

const FORMAT = "rc-recordings/sealed-profile";
const ALGORITHM = "aes-256-gcm";
export const KEY_BYTES = 32;

export class SealError extends Error {}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

export function newKeyId(): string {
  return randomBytes(9).toString("base64url");
}

export function seal(plaintext: string, key: Buffer, keyId: string, profile: string): SealedEnvelope {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(profile, "utf8"));
  const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    format: FORMAT,
    version: 1,
    keyId,
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    data: data.toString("base64"),
  };
}

/** Throws SealError when the ciphertext, IV, tag or profile name do not match the key (tampering, wrong key). */
export function unseal(envelope: SealedEnvelope, key: Buffer, profile: string): string {
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(envelope.iv, "base64"));
    decipher.setAAD(Buffer.from(profile, "utf8"));
    decipher.setAuthTag(Buffer.from(envelope.tag, "base64"));
    return Buffer.concat([decipher.update(Buffer.from(envelope.data, "base64")), decipher.final()]).toString(
      "utf8",
    );
  } catch {
    throw new SealError("authentication failed: the file was altered or was sealed with another key");
  }
}

/** Parse the envelope's JSON text, checking its shape (not its authenticity: that is `unseal`'s job). */
export function parseEnvelope(text: string): SealedEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new SealError(text.trim() === "" ? "the file is empty" : "not valid JSON");
  }
  const e = raw as Partial<SealedEnvelope> | null;
  if (
    typeof e !== "object" ||
    e === null ||
    e.format !== FORMAT ||
    e.version !== 1 ||
    typeof e.keyId !== "string" ||
    typeof e.iv !== "string" ||
    typeof e.tag !== "string" ||
    typeof e.data !== "string"
  ) {
    throw new SealError("not an rc-recordings sealed profile");
  }
  return e as SealedEnvelope;
}

/** Run one step of opening the sealed store at `path`: a SealError is that store's StoreCorruptError. */
export function openingStore<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof SealError) throw new StoreCorruptError(path, error.message);
    throw error;
  }
}
