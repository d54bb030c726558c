import { S3Bucket } from "./bucket.js";
import { connectS3 } from "./client.js";
import { acquireS3Lock } from "./lock.js";
import { describeLocation, type S3Location } from "./url.js";

/**
 * A bucket prefix as a small store of exclusive records, for state that is not an archive: the shared token
 * store (`--store s3://…`). It reuses the archive's client (the standard AWS chain, S3-compatible endpoints) and
 * its lock, so the token lock obeys exactly the archive lock's rules. Keys are relative to the prefix. Shaped to
 * auth's SharedObjects seam without importing it: auth never loads the AWS SDK, and nothing here knows tokens.
 */
export async function openSharedObjects(location: S3Location, env: NodeJS.ProcessEnv, signal: AbortSignal) {
  // The command's signal: a store that stopped answering keeps no interrupted command alive (reads stop at once,
  // writes and the lock's release within SETTLE_MS), exactly as for an archive.
  const bucket = new S3Bucket(await connectS3(env, { signal }), location.bucket);
  const where = describeLocation(location);
  const full = (key: string) => `${location.prefix}${key}`;
  return {
    where,
    readText: (key: string) => bucket.readText(full(key)),
    keys: async (prefix: string) => {
      const keys: string[] = [];
      for await (const { key } of bucket.list(full(prefix), "/"))
        keys.push(key.slice(location.prefix.length));
      return keys;
    },
    exists: async (key: string) => (await bucket.head(full(key))) !== undefined,
    write: async (key: string, body: string) => {
      await bucket.write(full(key), body, "application/json");
    },
    remove: async (key: string) => {
      await bucket.remove(full(key));
    },
    lock: (key: string) => acquireS3Lock(bucket, full(key), where),
  };
}
