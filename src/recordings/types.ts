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
  recording?: { id: string; uri?: string; type?: "Automatic" | "OnDemand" | string; contentUri: string };
}

/** One recording to download: the first call-log record that carried it (legs sharing it are dropped). */
export interface RecordingItem {
  recordingId: string;
  contentUri: string;
  record: CallLogRecord;
}
