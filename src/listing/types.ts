// What the call log says: the records and recordings a listing yields, and the ranges it covers.

/** A party of a call as the call log reports it (all fields optional on the platform). */
export interface CallParty {
  phoneNumber?: string;
  extensionNumber?: string;
  extensionId?: string;
  name?: string;
}

/** One call-log record, reduced to the fields rc-recordings reads (the raw record is kept for --metadata). */
export interface CallLogRecord {
  id: string;
  sessionId?: string;
  telephonySessionId?: string;
  startTime: string;
  duration?: number;
  type?: string;
  direction?: "Inbound" | "Outbound" | string;
  from?: CallParty;
  to?: CallParty;
  extension?: { id?: number | string; uri?: string };
  recording?: CallRecording;
  /** Detailed view only. A transferred call may have a recording per leg and none on the record itself. */
  legs?: CallLogLeg[];
}

export interface CallRecording {
  id: string;
  uri?: string;
  type?: "Automatic" | "OnDemand" | string;
  contentUri: string;
}

/** One leg of a call (Detailed view), reduced to what rc-recordings reads. */
export interface CallLogLeg {
  legType?: string;
  master?: boolean;
  recording?: CallRecording;
}

/**
 * One recording to download, with the first call-log record that carried it, on the record itself or on one of
 * its legs (records and legs sharing it are dropped).
 */
export interface RecordingItem {
  recordingId: string;
  contentUri: string;
  /** Automatic or OnDemand, from wherever the recording was found (a leg's may differ from the record's). */
  recordingType?: string;
  record: CallLogRecord;
  /** The extension the record belongs to, as the account's directory names it (set by the downloader). */
  extension?: Extension;
  /** Set when the archive holds this recording already and it is fetched again (`download --repair`). */
  again?: FetchAgain;
}

/**
 * Why a recording the manifest lists is fetched again, and what the manifest said of it: the run fetches it even
 * though the manifest counts it as saved, and records the repair (old and new SHA-256) after its new line.
 */
export interface FetchAgain {
  /** What the check found: the file was gone, or held other bytes than the manifest recorded. */
  found: "missing" | "changed";
  /** Where the manifest says the recording is: the repair writes it back there. */
  path: string;
  sha256: string;
  bytes: number;
  /** A changed file: what it held (its SHA-256 when it was read; a different size alone needs no reading). */
  held?: { bytes: number; sha256?: string };
  /** Where the changed copy was kept before it is replaced (set once it is). */
  quarantine?: string;
}

/** An extension of the account as its directory names it. */
export interface Extension {
  id: string;
  extensionNumber: string;
  name: string;
}

export interface TimeRange {
  from: Date;
  to: Date;
}
