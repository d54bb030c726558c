import { UsageError } from "../errors.js";
import { LocalFolder } from "./local/folder.js";
import { assertUsableFolder } from "./local/usable-folder.js";
import type { Destination, ObjectLockRequest } from "./types.js";

/** What a command asks of its destination beyond `--out`. */
export interface DestinationOptions {
  /** `--object-lock-days`, `--legal-hold`: only an object store keeps them (a folder is a UsageError). */
  objectLock?: ObjectLockRequest | undefined;
  /** Hears what the destination's start checks found (one info line). */
  log?: ((line: string) => void) | undefined;
  /**
   * A time-boxed run's last moment (`--max-duration`, its grace and the run's wind-down): every request to a
   * remote store still under way then stops, so a store that stopped answering cannot outlast the time box. A
   * folder has nothing to stop.
   */
  endBy?: AbortSignal | undefined;
}

/**
 * One kind of destination, chosen by the scheme of `--out`. Opening parses the URL (a malformed one is a
 * UsageError, exit 2) and builds the client, but makes no request yet; a kind loads its own dependencies only
 * here, so `--help`, `--version` and runs into a folder never pay for an SDK.
 */
export interface DestinationKind {
  /** Lower case, without "://". */
  readonly scheme: string;
  open(
    url: string,
    env: NodeJS.ProcessEnv,
    signal: AbortSignal | undefined,
    options: DestinationOptions,
  ): Promise<Destination>;
}

/** Every destination that is not a folder. A new backend adds itself here (docs/architecture.md). */
const KINDS: readonly DestinationKind[] = [
  {
    scheme: "s3",
    open: async (url, env, signal, options) =>
      (await import("./s3/destination.js")).S3Destination.openUrl(url, env, { signal, ...options }),
  },
];

/** `scheme://` at the start of `--out`; a path (even `C:\…` or `./s3://x`) has none. */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Whether `--out` (or a destination's `describe()`) names a store by URL rather than a local folder. */
export function isStoreUrl(out: string): boolean {
  return SCHEME.test(out);
}

/**
 * The destination `--out` names: a URL whose scheme a kind registered, or a local folder. `signal` (the process's:
 * Ctrl-C, SIGTERM) stops the destination's requests in flight.
 */
export async function openDestination(
  out: string,
  env: NodeJS.ProcessEnv,
  signal?: AbortSignal,
  options: DestinationOptions = {},
): Promise<Destination> {
  const scheme = SCHEME.exec(out)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (options.objectLock) {
      throw new UsageError(
        `--out ${JSON.stringify(out)}: --object-lock-days and --legal-hold need an object store with Object Lock (--out s3://BUCKET[/PREFIX]); a folder cannot keep them`,
      );
    }
    await assertUsableFolder(out);
    return new LocalFolder(out);
  }
  const kind = KINDS.find((k) => k.scheme === scheme);
  if (!kind) {
    const known = KINDS.map((k) => `${k.scheme}://`).join(", ");
    throw new UsageError(
      `--out ${JSON.stringify(out)}: no destination for ${scheme}:// (known: ${known}; a folder of that name needs ./ in front)`,
    );
  }
  return kind.open(out, env, signal, options);
}
