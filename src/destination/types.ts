import type { Hash } from "node:crypto";
import type { RelPath } from "./rel-path.js";

/**
 * Where verified recordings end up. The pipeline (downloader, transfer) writes only through this interface, so a
 * destination that is not a folder (an object store) slots in without touching it. Everything is addressed by
 * `RelPath` keys ("/"-separated, validated, relative to the destination's root); the absolute form, where there is
 * one, is computed once inside the implementation.
 *
 * The contract is the one an object store can keep: an object exists under a key only when it is complete
 * (`PartialObject.commit`), bytes of an unfinished transfer never show under the final key, and nothing needs an
 * append to a finished object or an atomic rename.
 */
export interface Destination {
  /** For messages: "folder /srv/calls", "s3://bucket/prefix". */
  describe(): string;
  /** Check, before the run starts, that the destination can be used (a dry run calls it too). */
  preflight(): Promise<void>;
  /**
   * The preflight, then one small object written into the destination's own state folder and removed: proof that
   * a run of this user, with these credentials, can write here (`doctor`). Throws what a run's write would.
   */
  probeWrite(): Promise<void>;
  /** One download per destination at a time; BusyError names the holder. */
  lock(): Promise<DestinationLock>;
  /** The size of the complete object under `key`, or undefined when there is none. */
  stat(key: RelPath): Promise<ObjectStat | undefined>;
  /**
   * What occupies names directly inside `folder` ("" = the root): complete objects and, where a partial takes a
   * name (a local `.part` file), partials. Read once per folder per run by name claiming.
   */
  list(folder: string): Promise<ListedEntry[]>;
  /**
   * The bytes of a complete object (to hash one committed just before a crash, or for `verify`). A chunk may be
   * reused for the next one: consume it (hash it, write it) before asking for the next.
   */
  read(key: RelPath): AsyncIterable<Uint8Array>;
  /** Every complete object below the root, in no particular order; the tool's own state is not among them. */
  objects(): AsyncIterable<RelPath>;
  /**
   * For read-only work (`verify`): throws the BusyError `lock()` would throw while a download holds the
   * destination, without taking the lock or writing anything.
   */
  assertIdle(): Promise<void>;
  remove(key: RelPath): Promise<void>;
  /**
   * Keep a byte-for-byte copy of the complete object under `key` aside, below the tool's own state
   * (`.rc-recordings/quarantine/<folder>/<key>`), where neither `objects()` nor name claiming sees it: the evidence
   * of a changed recording, taken before a repair replaces it. `folder` is one path component (a time stamp).
   */
  quarantine(key: RelPath, folder: string): Promise<QuarantinedCopy>;
  /**
   * A small whole object, replaced atomically: `evidence` (a metadata sidecar: kept like the recordings, under
   * Object Lock when the run asks for it) or `derived` (made from the manifest: index.csv, an export's listings; rewritten, never locked).
   */
  writeSmall(key: RelPath, text: string, contentType: string, role: SmallObjectRole): Promise<void>;
  /** Unfinished transfers: their bytes and the journal that finds them again in a later run. */
  readonly partials: PartialStore;
  /** The run's own records: the manifest and the incremental mark. */
  readonly state: StateStore;
}

/** What a small object is to the archive (see `writeSmall`). */
export type SmallObjectRole = "evidence" | "derived";

/**
 * S3 Object Lock on the archive's evidence (recordings and their sidecars, never its state: docs/proof.md):
 * retention for `days` from each object's write in `mode`, a legal hold, or both. Only an object store keeps it;
 * a folder refuses it.
 */
export interface ObjectLockRequest {
  retention?: { mode: ObjectLockMode; days: number } | undefined;
  legalHold: boolean;
}

export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

export interface QuarantinedCopy {
  /** The copy's key relative to the destination's root (what the manifest records). */
  key: string;
  /** Where it is, for people: a path, or an s3:// URL. */
  where: string;
}

export interface DestinationLock {
  release(): Promise<void>;
}

export interface ObjectStat {
  size: number;
  /**
   * The key is reached through a symbolic link (the file itself, or a folder on its way below the root): its
   * bytes are wherever the link points, not the archive's own copy. Only a folder has links.
   */
  linked?: true;
}

export interface ListedEntry {
  /** The name as the destination spells it. */
  name: string;
  kind: "object" | "partial";
}

/** What a later run needs to resume a recording whose transfer did not finish. */
export interface PartialRecord {
  /** The final key; the bytes stay out of it until they are verified and committed. */
  key: RelPath;
  contentType: string;
  /** Full size of the recording when the server said it. */
  total?: number;
  /**
   * The version the held bytes belong to (the first response's strong ETag, else its Last-Modified): a resume
   * sends it as `If-Range`, so a server whose recording changed sends the new version whole instead of a splice.
   */
  validator?: string;
}

export interface PartialMeta {
  recordingId: string;
  contentType: string;
  total?: number;
  /** Labels the object carries where the destination keeps them (S3: x-amz-meta-*); a folder ignores them. */
  metadata?: Record<string, string> | undefined;
  validator?: string;
}

/**
 * Unfinished transfers. The final name depends on `{ext}`, which only the response's Content-Type decides, so a
 * rerun cannot recompute it before asking the server: it finds the partial by recording id instead.
 */
export interface PartialStore {
  /** The journalled partial of a recording (its key checked), or undefined. */
  find(recordingId: string): Promise<PartialRecord | undefined>;
  /** Bytes an unfinished transfer holds for `key`, or undefined when it holds none. */
  held(key: RelPath): Promise<number | undefined>;
  /**
   * Journal `meta` for `key` and open its partial: `resume` continues after the bytes held, otherwise whatever
   * was held is dropped and the partial starts empty.
   */
  open(key: RelPath, meta: PartialMeta, options: PartialOpenOptions): Promise<PartialObject>;
  /** Forget a recording's partial: its journal record and, when `key` is given, the bytes held for it. */
  drop(recordingId: string, key?: RelPath): Promise<void>;
  /** Drop the records of recordings that `isFinished` says are done; returns how many. */
  dropFinished(isFinished: (recordingId: string) => boolean | Promise<boolean>): Promise<number>;
}

export interface PartialOpenOptions {
  resume: boolean;
  /** The run's signal: the partial's requests to a remote store stop when it aborts (Ctrl-C, the deadline). */
  signal?: AbortSignal | undefined;
}

/** One open partial. Exactly one of `close`, `commit`, `abort` ends it. */
export interface PartialObject {
  readonly key: RelPath;
  /** Bytes already held; appends continue from here. */
  readonly offset: number;
  /** The bytes held before `offset` was reached (to hash a resumed transfer). */
  readHeld(): AsyncIterable<Uint8Array>;
  /**
   * The sha256 of the bytes held, for a destination that can go on hashing but not read them back (an upload in
   * progress); the transfer uses it instead of `readHeld` when it is there.
   */
  heldHash?(): Hash;
  /** Write one chunk; resolves once it is held (a crash after that keeps it for the resume). */
  append(chunk: Uint8Array): Promise<void>;
  /** Keep the bytes for a later resume. */
  close(): Promise<void>;
  /** Make the bytes the complete object under `key`, durably and atomically. The journal record stays. */
  commit(): Promise<void>;
  /** Drop the bytes and the journal record. */
  abort(): Promise<void>;
}

/** The run's own records. Formats are fixed: manifest.jsonl lines, state.json (see archive/manifest.ts). */
export interface StateStore {
  /**
   * The manifest's lines; `writable` may create the store and repairs a torn last line. `warn` hears, once, of
   * lines skipped as unreadable.
   */
  openManifest(options: {
    writable: boolean;
    warn?: ((line: string) => void) | undefined;
  }): Promise<ManifestLog>;
  /** The incremental mark (state.json's text), or undefined when there is none yet. */
  readMark(): Promise<string | undefined>;
  writeMark(text: string): Promise<void>;
  /** A small record of the tool's own beside the manifest (e.g. the cached extension directory), or undefined. */
  readRecord(name: StateRecordName): Promise<string | undefined>;
  /** Replace such a record atomically. */
  writeRecord(name: StateRecordName, text: string): Promise<void>;
}

/** The records a StateStore keeps besides the manifest and the mark: a closed list, so none can name a path. */
export type StateRecordName = "extensions.json" | "exec-pending.json";

export interface ManifestLog {
  /** Every complete line, in order (a torn last line is left out). */
  lines(): AsyncIterable<string>;
  /** Append one line durably. Calls are serialised by the caller. */
  append(line: string): Promise<void>;
  close(): Promise<void>;
}
