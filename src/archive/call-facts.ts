import type { CallLogRecord, CallParty, RecordingItem } from "../listing/types.js";

/**
 * What a person searches an archive by, taken from a recording's call-log record and its extension: the values
 * of the naming placeholders, and what the manifest keeps for the index (`index.csv`). All optional: the
 * platform may omit any of them, and manifest lines written before they were recorded lack them.
 */
export interface CallFacts {
  sessionId?: string;
  direction?: string;
  fromNumber?: string;
  fromName?: string;
  toNumber?: string;
  toName?: string;
  extensionId?: string;
  extensionNumber?: string;
  extensionName?: string;
  durationSec?: number;
  /** The recording's type (Automatic, OnDemand): on a transferred call each leg's may differ. */
  type?: string;
}

export function callFacts(item: RecordingItem): CallFacts {
  const { record, extension } = item;
  // Only the values that exist: a manifest line stays short, and a missing value is simply absent.
  const facts: CallFacts = {};
  const put = <K extends keyof CallFacts>(key: K, value: CallFacts[K] | undefined) => {
    if (value !== undefined && value !== "") facts[key] = value;
  };
  put("sessionId", record.sessionId);
  put("direction", record.direction);
  put("fromNumber", partyNumber(record.from));
  put("fromName", record.from?.name);
  put("toNumber", partyNumber(record.to));
  put("toName", record.to?.name);
  put("extensionId", extensionIdOf(record));
  put("extensionNumber", extension?.extensionNumber);
  put("extensionName", extension?.name);
  put("durationSec", typeof record.duration === "number" ? record.duration : undefined);
  put("type", item.recordingType);
  return facts;
}

/** A party's phone number, or its extension number for an internal party. */
export function partyNumber(party: CallParty | undefined): string | undefined {
  return party?.phoneNumber ?? party?.extensionNumber;
}

/** The id of the extension the record belongs to, as a string (the platform sends an int64). */
export function extensionIdOf(record: CallLogRecord): string | undefined {
  return record.extension?.id === undefined ? undefined : String(record.extension.id);
}
