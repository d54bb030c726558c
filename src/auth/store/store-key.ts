import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { registerSecret } from "../../log/redact.js";
import { KEY_BYTES } from "./sealed.js";

/** Where the shared store's key comes from, in this order. */
export const STORE_KEY_VARIABLE = "RC_RECORDINGS_STORE_KEY";
/** systemd's LoadCredential= (and Kubernetes-style mounted secrets) hand a file in $CREDENTIALS_DIRECTORY. */
export const STORE_KEY_CREDENTIAL = "rc-recordings-store-key";

/** The shared store's key, and a fingerprint of it that names it in the envelope (not secret). */
export interface StoreKey {
  key: Buffer;
  id: string;
}

/**
 * The key that seals every profile of a shared store: 32 bytes, base64, from RC_RECORDINGS_STORE_KEY or the
 * file `$CREDENTIALS_DIRECTORY/rc-recordings-store-key`. Missing or malformed is a usage error (exit 2) naming
 * the variable — never a store without encryption, and never a new key made up on the spot (the other machines
 * could not open what this one wrote).
 */
export function loadStoreKey(env: NodeJS.ProcessEnv): StoreKey {
  const fromEnv = env[STORE_KEY_VARIABLE]?.trim();
  if (fromEnv) return parseKey(fromEnv, STORE_KEY_VARIABLE);
  const dir = env.CREDENTIALS_DIRECTORY;
  if (dir) {
    const file = join(dir, STORE_KEY_CREDENTIAL);
    let text: string | undefined;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new UsageError(`cannot read the store key ${file}: ${(error as Error).message}`);
      }
    }
    if (text) return parseKey(text, file);
  }
  throw new UsageError(
    `the shared token store needs its key: set ${STORE_KEY_VARIABLE} to 32 random bytes in base64 (openssl rand -base64 32), or put them in $CREDENTIALS_DIRECTORY/${STORE_KEY_CREDENTIAL}`,
  );
}

function parseKey(text: string, source: string): StoreKey {
  registerSecret(text);
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, "base64") : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new UsageError(
      `${source} is not a store key: expected ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`,
    );
  }
  return { key, id: fingerprint(key) };
}

/** Tells a wrong key from a damaged object: 72 bits of a domain-separated SHA-256, nothing to learn the key from. */
function fingerprint(key: Buffer): string {
  return createHash("sha256")
    .update("rc-recordings store key id\0")
    .update(key)
    .digest("base64url")
    .slice(0, 12);
}
