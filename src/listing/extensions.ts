import { ApiError } from "../api/errors.js";
import { readOwnExtension } from "../api/extension-info.js";
import type { ApiClient } from "../api/types.js";
import type { StateStore } from "../destination/types.js";
import { endsRun, OperationError, UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { PageBuffer, type RecordSpan } from "./page-buffer.js";
import { fetchPage, PagingGuard } from "./paging.js";
import type { Extension } from "./types.js";

/**
 * Who a call-log record belongs to. The account-wide call log gives only `extension.id`; the number and name
 * come from the account's extension directory, read at most once per run and cached in DIR's state folder for a
 * day (the directory is a Medium-group request, and a nightly run needs it every night).
 */
export interface ExtensionDirectory {
  /** The extension with this id, or undefined when there is none (no id, or one the directory does not know). */
  byId(id: string | number | undefined): Promise<Extension | undefined>;
  /**
   * The extension with this id as far as the directory already knows it (the cache, else one read), never
   * causing a re-read: for names filled in after the fact (index.csv), where a deleted extension stays unknown.
   */
  known(id: string): Promise<Extension | undefined>;
  /** Throws UnknownExtensionError (exit 2) naming every number the directory does not know. */
  requireNumbers(numbers: readonly string[]): Promise<void>;
}

/** `--extension N` names an extension the account's directory does not have. */
export class UnknownExtensionError extends UsageError {}

export interface DirectoryOptions {
  /** The run's client (signal, retries of transient failures). */
  api: ApiClient;
  /**
   * `account`: the account's directory (`GET …/extension`, paged), falling back to the user's own extension
   * when the token may not read it. `own`: only the user's own extension (`--scope extension` runs, whose calls
   * are all their own), from extension info.
   */
  source: "account" | "own";
  /** Where the cache lives (a record of the destination's state); written only when `writable` (not by a dry run). */
  state: StateStore;
  writable: boolean;
  log: Logger;
  now?: () => number;
}

/** The cache's record in the destination's state. */
const CACHE_RECORD = "extensions.json";
/** A cached directory older than this is read again. */
export const DIRECTORY_CACHE_MS = 24 * 60 * 60 * 1000;
const DIRECTORY_PATH = "/restapi/v1.0/account/~/extension";
const PER_PAGE = 1000;
/**
 * A page of 1000 extensions is about 300 kB: 8 MiB is far above any real one, and a body that never ends (one
 * reached 853 MB in 15 s) stops there.
 */
const MAX_DIRECTORY_PAGE_BYTES = 8 * 1024 * 1024;

interface CacheFile {
  fetchedAt: string;
  extensions: Extension[];
}

interface Snapshot {
  byId: Map<string, Extension>;
  byNumber: Map<string, Extension>;
  /** Read from the platform during this run: an unknown id then stays unknown instead of causing another read. */
  fresh: boolean;
  /** The directory could not be read in this run (after the listing's retries): why. Nothing is known then. */
  unreadable?: unknown;
}

export function openExtensionDirectory(options: DirectoryOptions): ExtensionDirectory {
  const now = options.now ?? Date.now;
  let current: Promise<Snapshot> | undefined;
  let reread: Promise<Snapshot> | undefined;
  // Concurrent lookups share one read; the first unknown id or number after a cached read triggers ONE re-read.
  const snapshot = () => {
    current ??= loadCached().then((cached) => cached ?? fetch());
    return current;
  };
  const refetched = async (): Promise<Snapshot> => {
    const seen = await snapshot();
    if (seen.fresh) return seen;
    reread ??= fetch();
    current = reread;
    return reread;
  };

  async function loadCached(): Promise<Snapshot | undefined> {
    if (options.source !== "account") return undefined;
    const text = await options.state.readRecord(CACHE_RECORD);
    if (text === undefined) return undefined;
    let cache: Partial<CacheFile>;
    try {
      cache = JSON.parse(text) as Partial<CacheFile>;
    } catch {
      return undefined; // torn or edited: read the directory again
    }
    const age = now() - Date.parse(String(cache.fetchedAt));
    if (!(age >= 0 && age < DIRECTORY_CACHE_MS) || !Array.isArray(cache.extensions)) return undefined;
    return snapshotOf(cache.extensions.filter(isExtension), false);
  }

  async function fetch(): Promise<Snapshot> {
    let extensions: Extension[];
    try {
      extensions = options.source === "own" ? [await ownExtension()] : await accountDirectory();
    } catch (error) {
      // Names matter less than recordings: the run goes on without them (byId), unless it is ending anyway.
      if (endsRun(error)) throw error;
      return { ...snapshotOf([], true), unreadable: error };
    }
    if (options.writable && options.source === "account") {
      const cache: CacheFile = { fetchedAt: new Date(now()).toISOString(), extensions };
      await options.state.writeRecord(CACHE_RECORD, `${JSON.stringify(cache)}\n`);
    }
    return snapshotOf(extensions, true);
  }

  async function ownExtension(): Promise<Extension> {
    const own = await readOwnExtension(options.api);
    return { id: own.id, extensionNumber: own.extensionNumber ?? "", name: own.name ?? "" };
  }

  async function accountDirectory(): Promise<Extension[]> {
    try {
      return await readDirectory(options.api);
    } catch (error) {
      // A user without the permission still knows their own extension (and sees only their own calls).
      if (!(error instanceof ApiError) || error.status !== 403) throw error;
      options.log.debug("no permission to read the extension directory; naming only your own extension");
      return [await ownExtension()];
    }
  }

  let warned = false;
  /** The snapshot, or (once per run) a warning that the names are unknown when the directory cannot be read. */
  const usable = (known: Snapshot): Snapshot => {
    if (known.unreadable !== undefined && !warned) {
      warned = true;
      const why = known.unreadable instanceof Error ? known.unreadable.message : String(known.unreadable);
      options.log.warn(
        `could not read the extension directory (${why}); recordings are saved with "unknown" where a name needs the extension, and index.csv gets the names once a later run reads it`,
      );
    }
    return known;
  };

  return {
    async byId(id) {
      if (id === undefined || id === null || String(id) === "") return undefined;
      const key = String(id);
      const known = usable(await snapshot());
      return known.byId.get(key) ?? usable(await refetched()).byId.get(key);
    },
    async known(id) {
      return usable(await snapshot()).byId.get(id);
    },
    async requireNumbers(numbers) {
      let known = await snapshot();
      if (numbers.some((n) => !known.byNumber.has(n))) known = await refetched();
      // `--extension N` cannot be checked without the directory: the run cannot start (after the retries).
      if (known.unreadable !== undefined) throw known.unreadable;
      const unknown = numbers.filter((n) => !known.byNumber.has(n));
      if (unknown.length > 0) {
        const list = unknown.map((n) => `--extension ${n}`).join(", ");
        throw new UnknownExtensionError(`${list}: no such extension number in the account's directory`);
      }
    },
  };
}

/**
 * Every page of `GET /restapi/v1.0/account/~/extension`, following `navigation.nextPage` under the call log's
 * paging rules (paging.ts): no page twice, no page that starts like an earlier one, at most MAX_PAGES, each
 * body within MAX_DIRECTORY_PAGE_BYTES.
 */
async function readDirectory(api: ApiClient): Promise<Extension[]> {
  const extensions: Extension[] = [];
  const buffer = new PageBuffer(MAX_DIRECTORY_PAGE_BYTES, "extension-directory page");
  const paging: PagingGuard = new PagingGuard(
    (reason) => new OperationError(`the extension directory is incomplete: ${reason}`),
  );
  let page = await fetchPage(api, buffer, `${DIRECTORY_PATH}?perPage=${PER_PAGE}`);
  for (;;) {
    paging.check(page, buffer);
    for (const span of page.records) {
      const extension = extensionOf(parsed(buffer, span, page.path));
      if (extension) extensions.push(extension);
    }
    if (!page.next) return extensions;
    page = await fetchPage(api, buffer, page.next);
  }
}

function parsed(buffer: PageBuffer, span: RecordSpan, path: string): DirectoryRecord {
  try {
    return buffer.parse(span) as DirectoryRecord;
  } catch {
    throw new ApiError(200, undefined, "response is not JSON", path);
  }
}

type DirectoryRecord = { id?: unknown; extensionNumber?: unknown; name?: unknown } | null;

function extensionOf(record: DirectoryRecord): Extension | undefined {
  if (typeof record !== "object" || record === null) return undefined;
  if (typeof record.id !== "number" && typeof record.id !== "string") return undefined;
  return {
    id: String(record.id),
    extensionNumber: typeof record.extensionNumber === "string" ? record.extensionNumber : "",
    name: typeof record.name === "string" ? record.name : "",
  };
}

function isExtension(value: unknown): value is Extension {
  const x = value as Partial<Extension> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.id === "string" &&
    typeof x.extensionNumber === "string" &&
    typeof x.name === "string"
  );
}

function snapshotOf(extensions: readonly Extension[], fresh: boolean): Snapshot {
  return {
    byId: new Map(extensions.map((x) => [x.id, x])),
    byNumber: new Map(extensions.filter((x) => x.extensionNumber !== "").map((x) => [x.extensionNumber, x])),
    fresh,
  };
}
