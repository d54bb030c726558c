import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import type { ManifestEntry } from "../archive/manifest.js";
import { holdsArchive, readManifestEntries } from "../archive/manifest.js";
import { checkRecordings, NoArchiveError, type VerifyProgress } from "../archive/verify.js";
import { relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import type { RecordingSource, SourceContext, SourcePass } from "../listing/source.js";
import type { CallParty, FetchAgain, RecordingItem, TimeRange } from "../listing/types.js";
import type { Logger } from "../log/logger.js";
import { TransferFailedError } from "../transfer/types.js";

export interface RepairSourceOptions {
  destination: Destination;
  /** `--from`/`--to`: only recordings whose call started in [from, to). */
  from: Date | undefined;
  to: Date;
  /** Shows the check (every recording of the range re-read and hashed, as `verify` does); closed after it. */
  progress: VerifyProgress & { close(): void };
  signal: AbortSignal;
  log: Logger;
  /** When the repair started: names its quarantine folder. */
  now: Date;
}

/**
 * `download --repair`: the recordings `verify` would report missing or changed, fetched again through the run
 * like any other (rate limiter, token sharing, lock, atomic writes, checksums), back where the manifest has them.
 * Nothing is listed: the manifest names each recording, and the platform's recording resource (`GET
 * /restapi/v1.0/account/~/recording/{id}`) gives its current content URI, or a 404 when the platform no longer has
 * it (deleted, or past retention: that recording fails, and what the archive holds stays as it is). A changed
 * file is copied into the quarantine before anything is fetched over it.
 */
export class RepairSource implements RecordingSource {
  /** The quarantine folder of this repair: one path component. */
  private readonly stamp: string;

  constructor(private readonly options: RepairSourceOptions) {
    this.stamp = options.now
      .toISOString()
      .replace(/\.\d+Z$/, "Z")
      .replace(/:/g, "-");
  }

  async open(context: SourceContext): Promise<SourcePass> {
    const { destination, log } = this.options;
    const entries = await readManifestEntries(destination);
    if (!entries) throw new NoArchiveError(`no archive in ${destination.describe()}: nothing to repair`);
    const found = await checkRecordings(destination, entries.filter(this.inRange), this.options).finally(() =>
      this.options.progress.close(),
    );
    const damaged = [
      ...found.missing.map((entry) => itemOf(entry, "missing")),
      ...found.changed.map(({ entry, ...held }) => itemOf(entry, "changed", held)),
    ].sort((a, b) => Date.parse(a.record.startTime) - Date.parse(b.record.startTime));
    log.info(
      damaged.length === 0
        ? `all ${found.checked} recordings intact: nothing to repair`
        : `${damaged.length} of ${found.checked} recordings to repair (${found.missing.length} missing, ${found.changed.length} changed)`,
    );
    const oldest = damaged[0] && new Date(damaged[0].record.startTime);
    const range: TimeRange = { from: this.options.from ?? oldest ?? this.options.to, to: this.options.to };
    return {
      range,
      keepsMark: true,
      lookupsPerRecording: 1, // the recording resource, for its current content URI (prepare)
      // Repairs are few: one slice holds them all.
      slices: async function* () {
        yield { ...range, items: damaged };
      },
      prepare: (item) => this.prepare(item, context),
    };
  }

  private readonly inRange = (entry: ManifestEntry): boolean => {
    const start = Date.parse(entry.startTime);
    const { from, to } = this.options;
    if (!Number.isFinite(start)) return from === undefined; // an entry without a start time: only unrestricted
    return (from === undefined || start >= from.getTime()) && start < to.getTime();
  };

  /**
   * Where the content is now (a dry run asks nothing); a changed file is kept aside before it is replaced. The
   * quarantine comes after the platform said it still has the recording: a recording it no longer has keeps
   * its file untouched.
   */
  private async prepare(item: RecordingItem, context: SourceContext): Promise<RecordingItem> {
    if (!context.writable) return item;
    const again = item.again;
    item.contentUri = await contentUriOf(context.client, item.recordingId, again?.path);
    if (again?.found === "changed" && again.quarantine === undefined) {
      const copy = await this.options.destination.quarantine(relPath(again.path), this.stamp);
      again.quarantine = copy.key;
      this.options.log.info(`changed: ${again.path}: the changed copy is kept in ${copy.where}`);
    }
    return item;
  }
}

/**
 * Before the run opens the archive (which takes the lock and creates the state of an archive that is not there):
 * a repair of a folder or bucket without one is bad input, said before any login or write.
 */
export async function assertRepairable(destination: Destination): Promise<void> {
  if (!(await holdsArchive(destination))) {
    throw new NoArchiveError(`no archive in ${destination.describe()}: nothing to repair`);
  }
}

/** The recording's content URI from the platform's recording resource; a 404 means it is gone. */
async function contentUriOf(client: ApiClient, recordingId: string, path = recordingId): Promise<string> {
  const resource = `/restapi/v1.0/account/~/recording/${encodeURIComponent(recordingId)}`;
  let found: { contentUri?: unknown };
  try {
    found = await client.getJson<{ contentUri?: unknown }>(resource);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new TransferFailedError(
        `${path}: the platform no longer has it (HTTP 404${error.errorCode ? ` ${error.errorCode}` : ""}: deleted, or past its retention); the archive keeps what it holds`,
        true,
        { notFound: true },
      );
    }
    throw error;
  }
  if (typeof found.contentUri !== "string" || found.contentUri === "") {
    throw new TransferFailedError(
      `the platform's answer for recording ${recordingId} has no contentUri`,
      false,
    );
  }
  return found.contentUri;
}

/** The recording as the run fetches it: its call's facts from the manifest (its new line keeps them). */
function itemOf(entry: ManifestEntry, found: FetchAgain["found"], held?: FetchAgain["held"]): RecordingItem {
  const again: FetchAgain = {
    found,
    path: entry.path,
    sha256: entry.sha256,
    bytes: entry.bytes,
    ...(held && { held }),
  };
  return {
    recordingId: entry.recordingId,
    contentUri: "", // asked for in `prepare`: content URIs are the platform's to change
    ...(entry.type !== undefined && { recordingType: entry.type }),
    record: {
      id: entry.callId,
      startTime: entry.startTime,
      ...(entry.sessionId !== undefined && { sessionId: entry.sessionId }),
      ...(entry.direction !== undefined && { direction: entry.direction }),
      ...(entry.durationSec !== undefined && { duration: entry.durationSec }),
      from: party(entry.fromNumber, entry.fromName),
      to: party(entry.toNumber, entry.toName),
      ...(entry.extensionId !== undefined && { extension: { id: entry.extensionId } }),
    },
    ...(entry.extensionNumber !== undefined && {
      extension: {
        id: entry.extensionId ?? "",
        extensionNumber: entry.extensionNumber,
        name: entry.extensionName ?? "",
      },
    }),
    again,
  };
}

function party(phoneNumber: string | undefined, name: string | undefined): CallParty {
  return { ...(phoneNumber !== undefined && { phoneNumber }), ...(name !== undefined && { name }) };
}
