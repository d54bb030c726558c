// A real S3-compatible server (s3rver) in its own process, for tests and benchmarks: 127.0.0.1, a random port,
// files under the folder given as the first argument, the buckets named in the rest. It prints one JSON line
// {"port":N} once it listens and stops on SIGTERM.
import S3rver from "s3rver";

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
