import type { Readable } from "node:stream";
import type { ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import { InterruptedError } from "../../errors.js";
import { PageProgress } from "../../page-progress.js";
import type { ObjectLockMode } from "../types.js";
import { BodyChecksum } from "./body-checksum.js";
import { capBody, MAX_LIST_PAGE_BYTES, MAX_LIST_PAGES } from "./capped-body.js";
import type { S3Connection } from "./client.js";
import {
  isNoObjectLock,
  isNotFoundError,
  isNotImplemented,
  isPreconditionFailed,
  StoreError,
  storeError,
} from "./errors.js";

export interface ObjectInfo {
  size: number;
  /** When the object was last written (ms). */
  modifiedAt: number;
  contentType: string | undefined;
  /** x-amz-meta-* (names lower-case). */
  metadata: Record<string, string>;
  /** This version of the object, for a conditional write or delete (If-Match). */
  etag?: string | undefined;
}

/** The request fields that lock one new object (PutObject, CreateMultipartUpload): see object-lock.ts. */
export interface ObjectLockParams {
  ObjectLockMode?: ObjectLockMode;
  ObjectLockRetainUntilDate?: Date;
  ObjectLockLegalHoldStatus?: "ON";
}

/** What GetObjectLockConfiguration says about a bucket. */
export interface BucketObjectLock {
  enabled: boolean;
  /** The bucket's default retention ("GOVERNANCE, 30 days"), which S3 gives every new object without its own. */
  defaultRetention?: string | undefined;
}

/** A write that happens only if no object has the key (If-None-Match: *), or only over this version (If-Match). */
export type WriteCondition = { ifAbsent: true } | { ifMatch: string };

/**
 * The few object operations an archive needs, on one bucket, every failure turned into a StoreError that
 * names the bucket. Bodies written here are Buffers or strings of known length, never streams: a streaming
 * PutObject with the SDK's default checksums sends aws-chunked framing that some stores keep inside the object.
 */
export class S3Bucket {
  constructor(
    readonly connection: S3Connection,
    readonly name: string,
  ) {}

  /**
   * Reads stop when the process is told to (Ctrl-C, SIGTERM) or a time-boxed run's last moment comes, and so do
   * uploads (S3ObjectWriter).
   */
  get stoppable(): { abortSignal?: AbortSignal } {
    const { stop } = this.connection;
    return stop ? { abortSignal: stop } : {};
  }

  /**
   * Small writes and clean-up (a DELETE, an abort of an upload) are left to finish after Ctrl-C/SIGTERM, for at
   * most SETTLE_MS (client.ts): a store that stopped answering must not keep a stopped run alive.
   */
  get settling(): { abortSignal?: AbortSignal } {
    const { settle } = this.connection;
    return settle ? { abortSignal: settle } : {};
  }

  /**
   * A failed request as the error the caller acts on: once the process was told to stop (Ctrl-C, SIGTERM), the
   * interruption itself (exit 130), not the store error its abort caused.
   */
  failure(error: unknown, action: string): Error {
    const { signal, endBy } = this.connection;
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new InterruptedError();
    if (endBy?.aborted) {
      return new StoreError(`s3://${this.name}: ${action}: no answer before --max-duration ran out`, true, {
        cause: error,
      });
    }
    return storeError(error, this.name, action);
  }

  /** One cheap request that proves credentials, region, bucket and permission to list. */
  async probe(prefix: string): Promise<void> {
    const { client, sdk } = this.connection;
    try {
      await client.send(
        new sdk.ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, MaxKeys: 1 }),
        this.stoppable,
      );
    } catch (error) {
      throw this.failure(error, "cannot use the bucket");
    }
  }

  /** Whether the bucket has Object Lock enabled (a store without the feature: not enabled). */
  async objectLock(): Promise<BucketObjectLock> {
    const { client, sdk } = this.connection;
    try {
      const out = await client.send(
        new sdk.GetObjectLockConfigurationCommand({ Bucket: this.name }),
        this.stoppable,
      );
      const config = out.ObjectLockConfiguration;
      const rule = config?.Rule?.DefaultRetention;
      const period = rule?.Days !== undefined ? `${rule.Days} days` : rule?.Years && `${rule.Years} years`;
      return {
        enabled: config?.ObjectLockEnabled === "Enabled",
        ...(period && { defaultRetention: `${rule?.Mode ?? "?"}, ${period}` }),
      };
    } catch (error) {
      if (isNoObjectLock(error)) return { enabled: false };
      throw this.failure(error, "read its Object Lock configuration");
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const { client, sdk } = this.connection;
    try {
      const out = await client.send(
        new sdk.HeadObjectCommand({ Bucket: this.name, Key: key }),
        this.stoppable,
      );
      return {
        size: out.ContentLength ?? 0,
        modifiedAt: out.LastModified?.getTime() ?? 0,
        contentType: out.ContentType,
        metadata: out.Metadata ?? {},
        etag: out.ETag,
      };
    } catch (error) {
      if (isNotFoundError(error)) return undefined;
      throw this.failure(error, `HEAD ${key}`);
    }
  }

  /**
   * Every object below `prefix`, in key order, page by page (1000 keys per request); with a `delimiter` ("/")
   * only those directly inside it. A listing must prove it moves forward (PageProgress: no continuation token
   * twice, no page that starts like an earlier one, at most MAX_LIST_PAGES, each answer at most
   * MAX_LIST_PAGE_BYTES): a store that repeats or cycles its tokens fails the listing after a few requests.
   */
  async *list(prefix: string, delimiter?: string): AsyncGenerator<{ key: string; size: number }> {
    const { client, sdk } = this.connection;
    const what = `list ${prefix || "/"}`;
    const progress = new PageProgress(
      MAX_LIST_PAGES,
      (reason) => new StoreError(`s3://${this.name}: ${what}: the listing does not end: ${reason}`, false),
    );
    let token: string | undefined;
    do {
      const n = progress.next();
      let out: ListObjectsV2CommandOutput;
      try {
        const command = new sdk.ListObjectsV2Command({
          Bucket: this.name,
          Prefix: prefix,
          ContinuationToken: token,
          ...(delimiter ? { Delimiter: delimiter } : {}),
        });
        capBody(
          command,
          MAX_LIST_PAGE_BYTES,
          () => `s3://${this.name}: ${what}: page ${n} is over ${MAX_LIST_PAGE_BYTES / 1024 / 1024} MiB`,
        );
        out = await client.send(command, this.stoppable);
      } catch (error) {
        throw this.failure(error, what);
      }
      // A page with no key (only common prefixes, or none at all: S3 may answer fewer keys than asked, even
      // none) is fine as long as its token is new.
      const first = out.Contents?.[0]?.Key ?? out.CommonPrefixes?.[0]?.Prefix;
      progress.check(n, token ?? "", first, `continuation token ${JSON.stringify(shorten(token ?? ""))}`);
      for (const item of out.Contents ?? []) {
        if (item.Key !== undefined) yield { key: item.Key, size: item.Size ?? 0 };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** The object's body as a stream, or undefined when there is none. */
  async read(key: string): Promise<Readable | undefined> {
    const { client, sdk } = this.connection;
    try {
      const out = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.name, Key: key }),
        this.stoppable,
      );
      return out.Body as Readable;
    } catch (error) {
      if (isNotFoundError(error)) return undefined;
      throw this.failure(error, `GET ${key}`);
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const body = await this.read(key);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(chunk as Buffer);
    } catch (error) {
      throw this.failure(error, `GET ${key}`);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  /** Write a small object whole; `lock`: an evidence object's Object Lock fields (object-lock.ts). */
  async write(
    key: string,
    body: string | Buffer,
    contentType: string,
    lock?: ObjectLockParams,
  ): Promise<void> {
    await this.put(key, body, contentType, undefined, lock);
  }

  /**
   * Write a small object whole, under a condition when one is given: `written` is false when the condition
   * failed (412) — on a store that supports it (AWS since 2024, R2, MinIO; s3rver ignores it and overwrites).
   * `etag`: the version written, for the next conditional write.
   */
  async put(
    key: string,
    body: string | Buffer,
    contentType: string,
    condition?: WriteCondition,
    lock?: ObjectLockParams,
  ): Promise<{ written: boolean; etag?: string | undefined }> {
    const { client, sdk, checksums } = this.connection;
    const checksum = BodyChecksum.of(body);
    try {
      const out = await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.name,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...checksum.params(checksums),
          ...lock,
          ...(condition && "ifAbsent" in condition ? { IfNoneMatch: "*" } : {}),
          ...(condition && "ifMatch" in condition ? { IfMatch: condition.ifMatch } : {}),
        }),
        // Not stopped by Ctrl-C at once: a small write abandoned by the client may still land at the store after
        // the clean-up that follows (a lock or journal record left behind). It gets SETTLE_MS, then it stops too.
        this.settling,
      );
      checksum.check(out, `s3://${this.name}/${key}`);
      return { written: true, etag: out.ETag };
    } catch (error) {
      if (condition && isPreconditionFailed(error)) return { written: false };
      throw this.failure(error, `PUT ${key}`);
    }
  }

  /**
   * Copy an object inside the bucket (CopyObject, up to 5 GB), then check the copy has the source's size: a store
   * that answers a copy with 200 and an error in its body (S3 does) leaves no short copy unnoticed.
   */
  async copy(from: string, to: string): Promise<void> {
    const { client, sdk } = this.connection;
    const source = await this.head(from);
    if (!source) throw storeError(new Error("no such object"), this.name, `copy ${from}`);
    try {
      await client.send(
        new sdk.CopyObjectCommand({
          Bucket: this.name,
          Key: to,
          // encodeURI, not encodeURIComponent: a "+" of a phone number stays a "+" both for S3, which
          // percent-decodes the header, and for stores that decode it with decodeURI (s3rver).
          CopySource: encodeURI(`${this.name}/${from}`),
          ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
        }),
        this.stoppable,
      );
    } catch (error) {
      throw this.failure(error, `copy ${from} to ${to}`);
    }
    const copied = await this.head(to);
    if (copied?.size !== source.size) {
      throw storeError(
        new Error(`the copy holds ${copied?.size ?? "no"} bytes, not ${source.size}`),
        this.name,
        `copy ${from} to ${to}`,
      );
    }
  }

  /** Remove an object (a missing one is fine); with `ifMatch`, only that version (false when it changed). */
  async remove(key: string, options: { ifMatch?: string | undefined } = {}): Promise<boolean> {
    const { client, sdk } = this.connection;
    try {
      await client.send(
        new sdk.DeleteObjectCommand({
          Bucket: this.name,
          Key: key,
          ...(options.ifMatch === undefined ? {} : { IfMatch: options.ifMatch }),
        }),
        this.settling,
      );
      return true;
    } catch (error) {
      if (isNotFoundError(error)) return true;
      if (options.ifMatch !== undefined && isPreconditionFailed(error)) return false;
      throw this.failure(error, `DELETE ${key}`);
    }
  }

  /** Abort a multipart upload; one that is already gone (completed, aborted, expired) is fine. */
  async abortUpload(key: string, uploadId: string): Promise<void> {
    const { client, sdk } = this.connection;
    try {
      await client.send(
        new sdk.AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: uploadId }),
        this.settling,
      );
    } catch (error) {
      if (isNotFoundError(error)) return;
      // Some stores cannot abort (s3rver): the parts stay invisible, never under the key; a lifecycle rule
      // that aborts incomplete uploads (docs/s3.md) cleans them up.
      if (isNotImplemented(error)) return;
      throw this.failure(error, `abort the upload of ${key}`);
    }
  }
}

/** A store's token in an error line: enough to recognise it, never a screenful. */
function shorten(token: string): string {
  return token.length > 40 ? `${token.slice(0, 37)}...` : token;
}
