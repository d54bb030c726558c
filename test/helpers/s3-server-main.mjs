// A real S3-compatible server (s3rver) in its own process, for tests and benchmarks: 127.0.0.1, a random port,
// files under the folder given as the first argument, the buckets named in the rest. It prints one JSON line
// {"port":N} once it listens and stops on SIGTERM.
import { promises as fs } from "node:fs";
import S3rver from "s3rver";
import FilesystemStore from "s3rver/lib/stores/filesystem.js";

// s3rver 3.7.1 removes a "folder" once a DELETE leaves it empty, while a PUT into the same folder may be between
// its mkdir and its open: the PUT's write stream then fails with ENOENT on a stream without an error handler,
// and the whole server process dies (seen when a run deletes one upload record as it writes the next). Real
// stores have no folders to remove, so this copy of its deleteObject keeps the empty folders.
FilesystemStore.prototype.deleteObject = async function deleteObject(bucket, key) {
  const unlink = (kind) =>
    fs.unlink(this.getResourcePath(bucket, key, kind)).catch((error) => {
      if (error.code !== "ENOENT") throw error;
    });
  await Promise.all(["object", "object.md5", "metadata.json"].map(unlink));
};

const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  directory,
  silent: process.env.S3RVER_VERBOSE !== "1",
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on("SIGTERM", () => {
  server.close().finally(() => process.exit(0));
});
