import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";
import { tempDir } from "./cli.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "s3-server-main.mjs");

/** The credentials any test client uses: s3rver knows one access key id and accepts any secret with it. */
export const S3_TEST_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER-any-secret" };

export interface S3Server {
  endpoint: string;
  /** The environment a CLI (or the SDK) needs to use this server: credentials, region, endpoint. */
  env: NodeJS.ProcessEnv;
  /** Every object of a bucket with its size and sha256, state objects included, read back from the server. */
  objects(
    bucket: string,
  ): Promise<
    Map<string, { size: number; sha256: string; contentType?: string; metadata?: Record<string, string> }>
  >;
  /** One object's body as text. */
  text(bucket: string, key: string): Promise<string>;
  /** One object's body, byte for byte. */
  bytes(bucket: string, key: string): Promise<Buffer>;
  /** Write one object (as someone else's client would: no checks of rc-recordings). */
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  /** Delete one object (as someone else's client would). */
  remove(bucket: string, key: string): Promise<void>;
  stop(): Promise<void>;
}

/** A server for the running test only: stopped when it ends, however it ends (call it inside a test). */
export async function s3ServerForTest(buckets: readonly string[] = ["archive"]): Promise<S3Server> {
  const server = await startS3Server(buckets);
  onTestFinished(() => server.stop());
  return server;
}

/**
 * A real S3-compatible server (s3rver) in its own process on 127.0.0.1 and a random port, its files in a temp
 * folder, with `buckets` created. Always available (a devDependency), so never skipped.
 */
export async function startS3Server(buckets: readonly string[] = ["archive"]): Promise<S3Server> {
  const folder = tempDir("rcr-s3-");
  // s3rver 3.7.1 makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider: without
  // it every truncated listing (more keys than MaxKeys) is a 500.
  const child: ChildProcess = spawn(
    process.execPath,
    ["--openssl-legacy-provider", MAIN, folder.path, ...buckets],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before it listened`)));
    child.stdout?.once("data", (data: Buffer) =>
      resolve((JSON.parse(String(data)) as { port: number }).port),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    AWS_ACCESS_KEY_ID: S3_TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"; // see src/destination/s3/client.ts
  const sdk = await import("@aws-sdk/client-s3");
  const client = new sdk.S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: S3_TEST_CREDENTIALS,
  });
  return {
    endpoint,
    env,
    async objects(bucket) {
      const found = new Map<
        string,
        { size: number; sha256: string; contentType?: string; metadata?: Record<string, string> }
      >();
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) {
          const key = item.Key as string;
          const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
          const hash = createHash("sha256");
          let size = 0;
          for await (const chunk of object.Body as AsyncIterable<Buffer>) {
            hash.update(chunk);
            size += chunk.length;
          }
          found.set(key, {
            size,
            sha256: hash.digest("hex"),
            ...(object.ContentType ? { contentType: object.ContentType } : {}),
            ...(object.Metadata ? { metadata: object.Metadata } : {}),
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return found;
    },
    async text(bucket, key) {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString()) ?? "";
    },
    async bytes(bucket, key) {
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
    },
    async put(bucket, key, body) {
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async remove(bucket, key) {
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      folder.cleanup();
    },
  };
}
