import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CheckpointSigner } from "../archive/checkpoint.js";
import { UsageError } from "../errors.js";

/** The name of the signing key among systemd credentials (`LoadCredential=signing-key:/path/key.pem`). */
export const SIGNING_KEY_CREDENTIAL = "signing-key";

/** A key file is small: read it whole; one line (exit 2) when it cannot be read. */
export async function readKeyFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
}

/**
 * The checkpoint signer of a run: `--signing-key FILE`, else the systemd credential `signing-key` when the
 * service was given one ($CREDENTIALS_DIRECTORY), else none (no checkpoint is signed).
 */
export async function signingKeyOf(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<CheckpointSigner | undefined> {
  const credential = env.CREDENTIALS_DIRECTORY
    ? join(env.CREDENTIALS_DIRECTORY, SIGNING_KEY_CREDENTIAL)
    : undefined;
  const path = flag ?? credential;
  if (path === undefined) return undefined;
  const pem =
    flag === undefined
      ? await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return undefined; // the service was given no signing key
          throw new UsageError(`${path}: cannot read the signing key (${error.code ?? error.message})`);
        })
      : await readKeyFile(path, "--signing-key");
  if (pem === undefined) return undefined;
  return CheckpointSigner.fromPem(pem, path);
}
