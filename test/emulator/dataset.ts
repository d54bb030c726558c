import type { LiveCallLog } from "./live-call-log.js";
import { type DatasetConfig, unitHash } from "./options.js";

/** Recording ids are this base plus the call-log index of the record that owns the recording. */
const RECORDING_ID_BASE = 2_800_000_000;
/** Every PAIR_PERIOD records, the record at PAIR_OFFSET and the next one are two legs sharing ONE recording. */
const PAIR_PERIOD = 14;
const PAIR_OFFSET = 3;
/**
 * Every LEG_SPLIT_PERIOD records, the record at LEG_SPLIT_OFFSET (unless it is part of a pair) is a transferred
 * call whose recordings exist only on its two legs (Detailed view), one each, with ids from their own base.
 */
const LEG_SPLIT_PERIOD = 20;
const LEG_SPLIT_OFFSET = 9;
const LEG_RECORDING_ID_BASE = 3_800_000_000;
const LEGS_PER_SPLIT_CALL = 2;

/**
 * Caller names that break naive file naming: path separators, traversal, Windows-reserved characters and
 * names, quotes and markup, control characters, non-ASCII, emoji, very long. `null` = no name; the `""`
 * entry marks a party with neither name nor number.
 */
const NAMES: readonly (string | null)[] = [
  "AC/DC Fan Club",
  "../../etc/passwd",
  'C:\\temp\\evil:stream "x"',
  '"Quoted" <b>Bold</b> | pipe * star ?',
  "Tab\tNew\nLine\u0007Bell\u0000Nul",
  "Zoë Ångström-Łukasiewicz",
  "山田 太郎",
  "محمد الأحمد",
  "🎧 Support Line",
  "CON",
  " .hidden. ",
  "John Smith",
  null,
  "",
  `Very Long ${"Name".repeat(80)}`,
];

export type ContentType = "audio/mpeg" | "audio/wav";
export type Direction = "Inbound" | "Outbound";
export type CallType = "Voice" | "Fax";
export type RecordingType = "Automatic" | "OnDemand";

/** The cheap, filterable facts of one record (no strings built). */
export interface CallTraits {
  index: number;
  startMs: number;
  type: CallType;
  direction: Direction;
  /** Index of the record owning this record's recording (itself, or the first leg of a pair). */
  recordingOwner: number | undefined;
  /** No recording on the record itself, one on each of its legs (the Detailed view shows them). */
  recordingsOnLegs: boolean;
  /** Set whenever the call has a recording, on the record or on its legs. */
  recordingType: RecordingType | undefined;
  /** Index of the company extension the call belongs to (see `Dataset.extensionOf`). */
  extension: number;
}

export interface RecordingInfo {
  id: string;
  /** Call-log index of the record that owns it. */
  index: number;
  /** Which leg of that record carries it, when it is a leg's own recording. */
  leg: number | undefined;
  contentType: ContentType;
  bytes: number;
  durationSec: number;
  /** Where the recording's bytes start in the shared content pattern. */
  patternOffset: number;
}

export interface Party {
  phoneNumber?: string;
  extensionNumber?: string;
  extensionId?: string;
  name?: string;
}

export interface Extension {
  id: string;
  extensionNumber: string;
  name: string;
}

/**
 * A deterministic call log of `calls` records, newest first, built by index on demand so that 100 000 records
 * cost nothing up front. Record i starts at endTime - (i + 0.5 ± 0.15) * spacing: start times never increase
 * with the index, so a date range maps to an index range by binary search.
 *
 * Calls made while the emulator runs (`live`) sit in front of record 0 with negative indices (-1 the first
 * live call, -2 the next): they are newer than every generated record, so the order and the binary search
 * stay as they are. Their facts come from the live call, not from the hash.
 */
export class Dataset {
  private readonly spacing: number;

  /**
   * @param extensions the company's extensions the calls belong to, in turn (record i: extension i mod n; the
   * two legs of a pair share one), the first user's first.
   */
  constructor(
    private readonly config: DatasetConfig,
    private readonly extensions: readonly Extension[],
    private readonly live: LiveCallLog,
  ) {
    if (extensions.length === 0) throw new Error("at least one extension is required");
    this.spacing = config.spanMs / Math.max(1, config.calls);
  }

  get size(): number {
    return this.config.calls;
  }

  private hash(index: number, salt: number): number {
    return unitHash(index, salt, this.config.seed);
  }

  /** The first leg of a pair (owns the shared recording). */
  private isPairLead(index: number): boolean {
    return index % PAIR_PERIOD === PAIR_OFFSET && index + 1 < this.config.calls;
  }

  private isPairFollower(index: number): boolean {
    return index > 0 && this.isPairLead(index - 1);
  }

  private isLegSplit(index: number): boolean {
    return (
      this.config.transferredCalls &&
      index % LEG_SPLIT_PERIOD === LEG_SPLIT_OFFSET &&
      index < this.config.calls &&
      !this.isPairLead(index) &&
      !this.isPairFollower(index)
    );
  }

  startMs(index: number): number {
    const live = this.live.at(index);
    if (live) return live.startMs;
    if (this.isPairFollower(index))
      return this.startMs(index - 1) - Math.max(1, Math.min(1000, this.spacing * 0.1));
    const jitter = (this.hash(index, 1) - 0.5) * 0.3;
    return Math.round(this.config.endTime - (index + 0.5 + jitter) * this.spacing);
  }

  /** Indices [first, end) whose start time is within [fromMs, toMs). */
  indexRange(fromMs: number, toMs: number): [number, number] {
    // Start times are non-increasing in the index: find the first index below toMs, then the first below fromMs.
    return [this.firstIndexBefore(toMs), this.firstIndexBefore(fromMs)];
  }

  /** The first index whose call started before `ms` (start times fall as the index grows). */
  firstIndexBefore(ms: number): number {
    let lo = -this.live.length;
    let hi = this.config.calls;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2); // lo may be negative (live calls): no >>>
      if (this.startMs(mid) < ms) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  traits(index: number): CallTraits {
    const live = this.live.at(index);
    if (live) {
      return {
        index,
        startMs: live.startMs,
        type: "Voice",
        direction: live.direction,
        recordingOwner: live.withRecording ? index : undefined,
        recordingsOnLegs: false,
        recordingType: live.withRecording ? "Automatic" : undefined,
        extension: live.extension,
      };
    }
    const startMs = this.startMs(index);
    if (this.isPairFollower(index)) {
      const lead = this.traits(index - 1);
      return { ...lead, index, startMs, direction: lead.direction === "Inbound" ? "Outbound" : "Inbound" };
    }
    const recordingsOnLegs = this.isLegSplit(index);
    const hasRecording =
      recordingsOnLegs || this.isPairLead(index) || this.hash(index, 2) < this.config.withRecordingRatio;
    const direction: Direction = this.hash(index, 3) < 0.5 ? "Inbound" : "Outbound";
    const type: CallType = !hasRecording && this.hash(index, 4) < 0.15 ? "Fax" : "Voice";
    return {
      index,
      startMs,
      type,
      direction,
      recordingOwner: hasRecording && !recordingsOnLegs ? index : undefined,
      recordingsOnLegs,
      recordingType: hasRecording ? (this.hash(index, 5) < 0.7 ? "Automatic" : "OnDemand") : undefined,
      extension: index % this.extensions.length,
    };
  }

  recordingId(ownerIndex: number): string {
    return String(RECORDING_ID_BASE + ownerIndex);
  }

  /** The ids of the recordings on record `index`'s legs (none unless its recordings are on its legs). */
  legRecordingIds(index: number): string[] {
    if (!this.isLegSplit(index)) return [];
    return Array.from({ length: LEGS_PER_SPLIT_CALL }, (_, leg) =>
      String(LEG_RECORDING_ID_BASE + index * LEGS_PER_SPLIT_CALL + leg),
    );
  }

  /** How many recordings record `index` owns (0, 1, or 2 on the legs of a transferred call). */
  recordingCountOf(index: number): number {
    const legs = this.legRecordingIds(index).length;
    if (legs > 0) return legs;
    return this.traits(index).recordingOwner === index ? 1 : 0;
  }

  /** The recording with this id, if the dataset has one (deleted ones included: that is an override). */
  recording(id: string): RecordingInfo | undefined {
    if (!/^\d{1,15}$/.test(id)) return undefined;
    const n = Number(id);
    if (n >= LEG_RECORDING_ID_BASE) {
      const index = Math.floor((n - LEG_RECORDING_ID_BASE) / LEGS_PER_SPLIT_CALL);
      if (index >= this.config.calls || !this.isLegSplit(index)) return undefined;
      return this.recordingInfo(id, index, (n - LEG_RECORDING_ID_BASE) % LEGS_PER_SPLIT_CALL);
    }
    const index = n - RECORDING_ID_BASE;
    if (!Number.isInteger(index) || index < -this.live.length || index >= this.config.calls) return undefined;
    if (this.traits(index).recordingOwner !== index) return undefined;
    return this.recordingInfo(id, index, undefined);
  }

  private recordingInfo(id: string, index: number, leg: number | undefined): RecordingInfo {
    // Each leg's recording draws its own content type, duration and content offset.
    const salt = leg === undefined ? 0 : 100 * (leg + 1);
    return {
      id,
      index,
      leg,
      contentType: this.hash(index, 6 + salt) < 0.6 ? "audio/mpeg" : "audio/wav",
      bytes: Math.max(
        0,
        Math.floor(this.live.at(index)?.recordingBytes ?? this.config.recordingBytes(index)),
      ),
      durationSec: 30 + Math.floor(this.hash(index, 8 + salt) * 570),
      patternOffset: Math.floor(this.hash(index, 9 + salt) * 0x100000),
    };
  }

  /** A record is listed: every generated one; a live call's once its record has appeared. */
  hasAppeared(index: number, now = Date.now()): boolean {
    const live = this.live.at(index);
    return live === undefined || live.appearsAtMs <= now;
  }

  /** How many live records are listed at `now` (only grows; part of the call-log cache key). */
  liveAppeared(now = Date.now()): number {
    return this.live.appearedCount(now);
  }

  /**
   * Every recording (legs' ones included), newest first (iterates the whole log: for small datasets); live
   * calls' once they have appeared.
   */
  *recordings(now = Date.now()): Generator<RecordingInfo> {
    for (let i = -this.live.length; i < this.config.calls; i++) {
      if (!this.hasAppeared(i, now)) continue;
      const own = this.recording(this.recordingId(i));
      if (own) yield own;
      for (const id of this.legRecordingIds(i)) {
        const onLeg = this.recording(id);
        if (onLeg) yield onLeg;
      }
    }
  }

  /** The external party of record i (hostile names cycle through NAMES). */
  externalParty(index: number): Party {
    // Live calls (negative indices) cycle through the same names.
    const owner = Math.abs(this.isPairFollower(index) ? index - 1 : index);
    const name = NAMES[owner % NAMES.length];
    if (name === "") return {};
    const phoneNumber = `+1650555${String(1000 + (owner % 9000)).padStart(4, "0")}`;
    return name === null || name === undefined ? { phoneNumber } : { phoneNumber, name };
  }

  /** The company extension a record belongs to (a pair's follower shares its lead's through `traits`). */
  extensionOf(index: number): Extension {
    return this.extensions[this.traits(index).extension] as Extension;
  }

  /** The company's side of a call: the extension (`CallTraits.extension`) the call belongs to. */
  companyParty(extensionIndex: number): Party {
    const extension = this.extensions[extensionIndex] as Extension;
    return { extensionNumber: extension.extensionNumber, extensionId: extension.id, name: extension.name };
  }

  /** A recorded call lasts as long as its recording, or as its legs' recordings together. */
  durationSec(index: number): number {
    const live = this.live.at(index);
    if (live) return Math.max(1, Math.round((live.endMs - live.answeredMs) / 1000));
    const legs = this.legRecordingIds(index);
    if (legs.length > 0) return legs.reduce((sum, id) => sum + (this.recording(id)?.durationSec ?? 0), 0);
    const owner = this.traits(index).recordingOwner;
    if (owner !== undefined) return this.recording(this.recordingId(owner))?.durationSec ?? 60;
    return Math.floor(this.hash(index, 10) * 300);
  }

  sessionId(index: number): string {
    const owner = this.isPairFollower(index) ? index - 1 : index;
    return String(4_000_000_000 + owner * 3);
  }

  telephonySessionId(index: number): string {
    const owner = this.isPairFollower(index) ? index - 1 : index;
    return `s-a0e${(0x10000000 + owner).toString(16)}${Math.floor(this.hash(owner, 11) * 0xffffff).toString(16)}`;
  }

  /** The index of a call-log record id (`recordId`), or undefined for an id this dataset never issued. */
  indexOfRecordId(id: string): number | undefined {
    const tail = /x(-?[0-9a-z]+)$/.exec(id)?.[1];
    const index = tail === undefined ? Number.NaN : Number.parseInt(tail, 36);
    if (!Number.isSafeInteger(index) || index < -this.live.length || index >= this.config.calls)
      return undefined;
    return this.recordId(index) === id ? index : undefined;
  }

  recordId(index: number): string {
    const prefix = Math.floor(this.hash(index, 12) * 0xffffff)
      .toString(36)
      .padStart(5, "0");
    return `${prefix.toUpperCase()}x${index.toString(36)}`;
  }
}
