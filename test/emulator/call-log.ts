import type { CallTraits, Direction, Party } from "./dataset.js";
import type { ApiErrorSpec } from "./http-util.js";
import { invalidParameter as invalid, pagedBody, parsePaging, requestBase } from "./paging.js";
import type { EmulatorState } from "./state.js";

const DAY_MS = 86_400_000;
/** Every emulated call reached the company from the phone network. */
const TRANSPORT = "PSTN";

export interface CallLogQuery {
  fromMs: number;
  toMs: number;
  recordingType: "Automatic" | "OnDemand" | "All" | undefined;
  types: Set<string>;
  directions: Set<string>;
  /** `transport` (PSTN, VoIP), any number of them; empty: no filter. */
  transports: Set<string>;
  /** `extensionNumber`: only the calls of the company extension with this short number. */
  extensionNumber: string | undefined;
  /** Set by the route, not the query: an extension's own call log holds only that extension's calls. */
  extensionId: string | undefined;
  view: "Simple" | "Detailed";
  page: number;
  perPage: number;
  /** E.164 without "+": a party of the call has this number. */
  phoneNumber: string | undefined;
  sessionId: string | undefined;
  telephonySessionId: string | undefined;
}

function parseDate(params: URLSearchParams, name: string): number | ApiErrorSpec | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : invalid(name, raw);
}

function parseEnumList(
  params: URLSearchParams,
  name: string,
  allowed: readonly string[],
): Set<string> | ApiErrorSpec {
  const values = params.getAll(name);
  const bad = values.find((v) => !allowed.includes(v));
  return bad === undefined ? new Set(values) : invalid(name, bad);
}

/** Parse call-log query parameters like the platform: bad values → 400 CMN-101 naming the parameter. */
export function parseCallLogQuery(params: URLSearchParams, now = Date.now()): CallLogQuery | ApiErrorSpec {
  const to = parseDate(params, "dateTo");
  if (typeof to === "object") return to;
  const from = parseDate(params, "dateFrom");
  if (typeof from === "object") return from;
  const toMs = to ?? now;
  const recordingTypeRaw = params.get("recordingType");
  let recordingType: CallLogQuery["recordingType"];
  if (recordingTypeRaw !== null) {
    if (recordingTypeRaw !== "Automatic" && recordingTypeRaw !== "OnDemand" && recordingTypeRaw !== "All") {
      return invalid("recordingType", recordingTypeRaw);
    }
    recordingType = recordingTypeRaw;
  } else if (params.get("withRecording") === "true") {
    recordingType = "All"; // deprecated parameter, honoured only without recordingType
  }
  const types = parseEnumList(params, "type", ["Voice", "Fax"]);
  if (!(types instanceof Set)) return types;
  const directions = parseEnumList(params, "direction", ["Inbound", "Outbound"]);
  if (!(directions instanceof Set)) return directions;
  const transports = parseEnumList(params, "transport", ["PSTN", "VoIP"]);
  if (!(transports instanceof Set)) return transports;
  const view = params.get("view") ?? "Simple";
  if (view !== "Simple" && view !== "Detailed") return invalid("view", view);
  const paging = parsePaging(params);
  if ("status" in paging) return paging;
  // E.164, documented without the "+" — and a string without a pattern in the spec: "+16505551000" is accepted
  // as the same number.
  const phoneRaw = params.get("phoneNumber") ?? undefined;
  if (phoneRaw !== undefined && !/^\+?\d{1,15}$/.test(phoneRaw)) return invalid("phoneNumber", phoneRaw);
  const phoneNumber = phoneRaw?.replace(/^\+/, "");
  const extensionNumber = params.get("extensionNumber") ?? undefined;
  if (extensionNumber !== undefined && !/^\d{1,10}$/.test(extensionNumber)) {
    return invalid("extensionNumber", extensionNumber);
  }
  // The spec: extensionNumber cannot be combined with phoneNumber; CLG-110: nor with sessionId.
  if (extensionNumber !== undefined && phoneNumber !== undefined) return invalid("phoneNumber", phoneNumber);
  const sessionId = params.get("sessionId") ?? undefined;
  if (extensionNumber !== undefined && sessionId !== undefined) {
    return {
      status: 400,
      errorCode: "CLG-110",
      message: "Parameter [sessionId] is not allowed together with [extensionNumber]",
      details: { parameterName: "sessionId" },
    };
  }
  return {
    fromMs: from ?? toMs - DAY_MS,
    toMs,
    recordingType,
    types,
    directions,
    transports,
    extensionNumber,
    extensionId: undefined,
    view,
    ...paging,
    phoneNumber,
    sessionId,
    telephonySessionId: params.get("telephonySessionId") ?? undefined,
  };
}

function matches(state: EmulatorState, query: CallLogQuery, index: number, now: number): boolean {
  const ds = state.dataset;
  if (!ds.hasAppeared(index, now)) return false;
  const traits = ds.traits(index);
  if (query.sessionId !== undefined && ds.sessionId(index) !== query.sessionId) return false;
  if (query.telephonySessionId !== undefined && ds.telephonySessionId(index) !== query.telephonySessionId)
    return false;
  if (query.phoneNumber !== undefined && ds.externalParty(index).phoneNumber !== `+${query.phoneNumber}`)
    return false;
  // A call belongs to one company extension: the account log's extensionNumber, an extension's own log.
  if (query.extensionNumber !== undefined || query.extensionId !== undefined) {
    const extension = state.companyExtensions[traits.extension];
    if (query.extensionNumber !== undefined && extension?.extensionNumber !== query.extensionNumber)
      return false;
    if (query.extensionId !== undefined && extension?.id !== query.extensionId) return false;
  }
  if (query.types.size > 0 && !query.types.has(traits.type)) return false;
  if (query.directions.size > 0 && !query.directions.has(traits.direction)) return false;
  if (query.transports.size > 0 && !query.transports.has(TRANSPORT)) return false;
  if (query.recordingType === undefined) return true;
  if (traits.recordingType === undefined || !hasLiveRecording(state, traits)) return false;
  return query.recordingType === "All" || query.recordingType === traits.recordingType;
}

/** Matching indices of a query, cached for the few most recent queries (paging repeats the same filter). */
export class MatchCache {
  private readonly entries = new Map<string, Int32Array>();

  get(state: EmulatorState, query: CallLogQuery): Int32Array {
    // Keyed by index range, not time: a query without dateTo ("now") keeps hitting while paging.
    const [first, end] = state.dataset.indexRange(query.fromMs, query.toMs);
    const { phoneNumber, extensionNumber, sessionId, telephonySessionId } = query;
    // Retention changes which records still carry a recording, so its boundary is part of the key; live
    // calls' records appear over time, so how many have appeared is too.
    const now = Date.now();
    const key = JSON.stringify([
      first,
      end,
      state.retention.firstExpiredIndex,
      state.dataset.liveAppeared(now),
      query.recordingType,
      [...query.types],
      [...query.directions],
      [...query.transports],
      [phoneNumber, extensionNumber, sessionId, telephonySessionId, query.extensionId],
    ]);
    const hit = this.entries.get(key);
    if (hit) return hit;
    const found: number[] = [];
    for (let i = first; i < end; i++) if (matches(state, query, i, now)) found.push(i);
    const indices = Int32Array.from(found);
    this.entries.set(key, indices);
    if (this.entries.size > 8) this.entries.delete(this.entries.keys().next().value as string);
    return indices;
  }
}

/** Retention has not taken the record's recording(s) yet (on the record, or its legs'). */
function hasLiveRecording(state: EmulatorState, traits: CallTraits): boolean {
  const owner = traits.recordingsOnLegs ? traits.index : traits.recordingOwner;
  return owner !== undefined && !state.retention.isExpired(owner);
}

/** One call-log record as the platform shapes it (Detailed adds lastModifiedTime and legs). */
export function callRecord(state: EmulatorState, index: number, view: CallLogQuery["view"]) {
  const ds = state.dataset;
  const traits = ds.traits(index);
  const id = ds.recordId(index);
  const duration = ds.durationSec(index);
  const external = ds.externalParty(index);
  const company = ds.companyParty(traits.extension);
  const inbound = traits.direction === ("Inbound" satisfies Direction);
  const fax = traits.type === "Fax";
  const live = hasLiveRecording(state, traits);
  const recordingId =
    traits.recordingOwner === undefined || !live ? undefined : ds.recordingId(traits.recordingOwner);
  const recordingOf = (id: string) => ({
    uri: state.recordingUri(id),
    id,
    type: traits.recordingType,
    contentUri: state.contentUri(id),
  });
  const startTime = new Date(traits.startMs).toISOString();
  const result = fax
    ? inbound
      ? "Received"
      : "Sent"
    : traits.recordingType
      ? "Accepted"
      : inbound
        ? "Missed"
        : "Call connected";
  const record = {
    uri: `${state.apiOrigin}/restapi/v1.0/account/${state.config.accountId}/call-log/${id}?view=${view}`,
    id,
    sessionId: ds.sessionId(index),
    telephonySessionId: ds.telephonySessionId(index),
    startTime,
    duration,
    durationMs: duration * 1000,
    type: traits.type,
    // Values of the spec's CallInternalTypeEnum (it has no "Fax"): faxes travel as usual calls.
    internalType: fax ? "Usual" : "Local",
    direction: traits.direction,
    action: fax ? (inbound ? "Incoming Fax" : "Outgoing Fax") : "Phone Call",
    result,
    to: inbound ? company : external,
    from: inbound ? external : company,
    extension: {
      uri: `${state.apiOrigin}/restapi/v1.0/account/${state.config.accountId}/extension/${company.extensionId}`,
      id: Number(company.extensionId),
    },
    transport: TRANSPORT,
    ...(recordingId && { recording: recordingOf(recordingId) }),
    // `shortRecording` is sent only when true (spec); no emulated recording is too short.
  };
  if (view === "Simple") return record;
  return {
    ...record,
    lastModifiedTime: new Date(traits.startMs + duration * 1000 + 30_000).toISOString(),
    legs:
      traits.recordingsOnLegs && live
        ? ds.legRecordingIds(index).map((legRecordingId, leg) => ({
            ...legOf(record, leg === 0 ? "PstnToSip" : "SipToPstnUnmetered", leg === 0),
            recording: recordingOf(legRecordingId),
          }))
        : [{ ...legOf(record, "PstnToSip", true), ...(record.recording && { recording: record.recording }) }],
  };
}

/** A leg as the Detailed view shows it: the call's facts, the leg's type, whether it is the master leg. */
function legOf(
  record: {
    startTime: string;
    duration: number;
    type: string;
    direction: string;
    action: string;
    result: string;
    to: Party;
    from: Party;
  },
  legType: string,
  master: boolean,
) {
  const { startTime, duration, type, direction, action, result, to, from } = record;
  return {
    startTime,
    duration,
    durationMs: duration * 1000,
    type,
    direction,
    action,
    result,
    to,
    from,
    legType,
    master,
  };
}

/** GET …/call-log: newest first; navigation.nextPage until the last page; past the end: no records. */
export function callLogPage(state: EmulatorState, url: URL, query: CallLogQuery, ownAccount = true) {
  // A user of another account sees that account's (empty) log, never this one's records.
  const indices = ownAccount ? state.callLogMatches.get(state, query) : new Int32Array(0);
  const start = (query.page - 1) * query.perPage;
  const slice = indices.subarray(
    Math.min(start, indices.length),
    Math.min(start + query.perPage, indices.length),
  );
  const records = Array.from(slice, (i) => callRecord(state, i, query.view));
  return pagedBody(
    requestBase(url, state.apiOrigin),
    query,
    indices.length,
    records,
    state.config.pagingTotals,
  );
}

export const RECORDING_NOT_FOUND: ApiErrorSpec = {
  status: 404,
  errorCode: "CMN-102",
  legacyCode: "ResourceNotFound",
  message: "Resource for parameter [recordingId] is not found",
  details: { parameterName: "recordingId" },
};
