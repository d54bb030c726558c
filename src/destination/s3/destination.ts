import { LockWatch } from "../lock-holder.js";
import { probeName } from "../probe.js";
import { isRelPath, quarantineKey, type RelPath, relPath } from "../rel-path.js";
import type {
  Destination,
  DestinationLock,
  ListedEntry,
  ObjectLockRequest,
  ObjectStat,
  QuarantinedCopy,
  SmallObjectRole,
} from "../types.js";
import { S3Bucket } from "./bucket.js";
import { type ConnectOptions, connectS3 } from "./client.js";
import { acquireS3Lock, assertS3Idle } from "./lock.js";
import { ObjectLock } from "./object-lock.js";
import { S3Partials } from "./partials.js";
import { S3State, STATE_FOLDER } from "./state.js";
import { describeLocation, parseS3Url, type S3Location } from "./url.js";

export interface S3OpenOptions extends ConnectOptions {
  /** Object Lock on the evidence the run writes (checked against the bucket by the preflight). */
  objectLock?: ObjectLockRequest | undefined;
  /** Hears what the preflight found (one info line). */
  log?: ((line: string) => void) | undefined;
}

/**
 * An archive in an S3-compatible bucket: every key of the run becomes `PREFIX + key`, the run's own records live
 * under `PREFIX/.rc-recordings/` (S3State, S3Partials), so a rerun from any machine knows what is there.
 */
export class S3Destination implements Destination {
  readonly state: S3State;
  readonly partials: S3Partials;
  /** Every write below is refused once the run's lock was lost. */
  private readonly watch = new LockWatch();

  private constructor(
    readonly location: S3Location,
    readonly bucket: S3Bucket,
    /** Object Lock on every evidence object the run writes, when asked for (`--object-lock-days`, `--legal-hold`). */
    private readonly objectLock: ObjectLock | undefined,
    private readonly log: ((line: string) => void) | undefined,
  ) {
    this.state = new S3State(bucket, location.prefix, this.watch);
    this.partials = new S3Partials(
      bucket,
      location.prefix,
      `${this.state.root}uploads/`,
      this.watch,
      objectLock,
    );
  }

  /** `s3://BUCKET[/PREFIX]` (a malformed one is a UsageError); loads the SDK and builds the client, no request yet. */
  static openUrl(url: string, env: NodeJS.ProcessEnv, options: S3OpenOptions = {}): Promise<S3Destination> {
    return S3Destination.open(parseS3Url(url), env, options);
  }

  /** Loads the SDK and builds the client; no request yet. */
  static async open(
    location: S3Location,
    env: NodeJS.ProcessEnv,
    options: S3OpenOptions = {},
  ): Promise<S3Destination> {
    const connection = await connectS3(env, options);
    const lock = options.objectLock && new ObjectLock(options.objectLock);
    return new S3Destination(location, new S3Bucket(connection, location.bucket), lock, options.log);
  }

  describe(): string {
    return describeLocation(this.location);
  }

  /**
   * One cheap request (list one key of the state folder): credentials, region, bucket, permission. With Object
   * Lock asked for, a second one: the bucket must have it enabled (a UsageError naming the fix otherwise).
   */
  async preflight(): Promise<void> {
    await this.bucket.probe(this.state.root);
    if (!this.objectLock) return;
    const bucket = await this.objectLock.assertEnabled(this.bucket, this.describe());
    this.log?.(
      `${this.describe()}: Object Lock enabled${bucket.defaultRetention ? ` (bucket default retention: ${bucket.defaultRetention})` : ""}; every recording is ${this.objectLock.describe()}`,
    );
  }

  async probeWrite(): Promise<void> {
    await this.preflight();
    const key = `${this.state.root}${probeName()}`;
    await this.bucket.write(key, "rc-recordings write probe\n", "text/plain");
    await this.bucket.remove(key);
  }

  /**
   * Take the archive for this run, then clean up after a run that was killed while it held it (abort its
   * uploads) and fold earlier runs' manifest segments into one object. Releasing it first aborts the uploads
   * this run leaves unfinished (Ctrl-C, an error): a later run cannot resume them.
   */
  async lock(): Promise<DestinationLock> {
    const lock = await acquireS3Lock(this.bucket, this.lockKey, this.describe(), { watch: this.watch });
    try {
      await this.partials.load();
      await this.state.compact();
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
    return {
      release: async () => {
        try {
          await this.partials.abortAll();
        } finally {
          await lock.release();
        }
      },
    };
  }

  private get lockKey(): string {
    return `${this.state.root}lock.json`;
  }

  keyOf(key: string): string {
    return `${this.location.prefix}${key}`;
  }

  async stat(key: RelPath): Promise<ObjectStat | undefined> {
    const info = await this.bucket.head(this.keyOf(key));
    return info && { size: info.size };
  }

  /** The objects directly inside `folder` (one LIST request per 1000 names). */
  async list(folder: string): Promise<ListedEntry[]> {
    const inside = this.keyOf(folder === "" ? "" : `${folder}/`);
    const entries: ListedEntry[] = [];
    for await (const { key } of this.bucket.list(inside, "/")) {
      const name = key.slice(inside.length);
      if (name !== "" && `${name}/` !== STATE_FOLDER) entries.push({ name, kind: "object" });
    }
    return entries;
  }

  /** Every object below PREFIX (one LIST request per 1000 keys), the state folder left out. */
  async *objects(): AsyncIterable<RelPath> {
    const { prefix } = this.location;
    for await (const { key } of this.bucket.list(prefix)) {
      const path = key.slice(prefix.length);
      if (!path.startsWith(STATE_FOLDER) && isRelPath(path)) yield relPath(path);
    }
  }

  /** For `verify`: the bucket usable (one line naming it and the cause otherwise), and no download in it. */
  async assertIdle(): Promise<void> {
    await this.preflight();
    await assertS3Idle(this.bucket, this.lockKey, this.describe());
  }

  async *read(key: RelPath): AsyncIterable<Uint8Array> {
    const body = await this.bucket.read(this.keyOf(key));
    if (body) yield* body as AsyncIterable<Uint8Array>;
  }

  async remove(key: RelPath): Promise<void> {
    await this.bucket.remove(this.keyOf(key));
  }

  /**
   * A server-side copy (CopyObject: the bytes never leave the store), checked by its size. In a versioned bucket
   * the repair's write that follows is a new version of the recording's key; Object Lock keeps the old one.
   */
  async quarantine(key: RelPath, folder: string): Promise<QuarantinedCopy> {
    const copy = quarantineKey(STATE_FOLDER.slice(0, -1), folder, key);
    this.watch.check();
    await this.bucket.copy(this.keyOf(key), this.keyOf(copy));
    return { key: copy, where: `s3://${this.bucket.name}/${this.keyOf(copy)}` };
  }

  /** A small object written whole: a sidecar (evidence: locked like a recording when asked) or the index. */
  async writeSmall(key: RelPath, text: string, contentType: string, role: SmallObjectRole): Promise<void> {
    this.watch.check();
    const lock = role === "evidence" ? this.objectLock?.params() : undefined;
    await this.bucket.write(this.keyOf(key), text, contentType, lock);
  }
}
