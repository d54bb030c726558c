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
