/**
 * The WebSocket gateway's messages (RingCentral's push channel): every message is a JSON array `[meta, body?]`.
 * Only what the watch needs is typed; anything else a message carries is ignored, and a message that is not
 * such an array is `undefined` (the caller logs it and goes on).
 */

/** The ws session's recovery token, carried (with a rising sequence) by ConnectionDetails and notifications. */
export interface Wsc {
  token: string;
  sequence: number;
}

export interface ConnectionDetails {
  type: "ConnectionDetails";
  wsc: Wsc | undefined;
  /** Seconds a lost connection may be recovered with `wsc`. */
  recoveryTimeoutSec: number;
  /** Set on a connection opened with `wsc`. */
  recoveryState: "Successful" | "Failed" | undefined;
}

/** A recording a party of the call has, `active` while it is being recorded. */
export interface SessionRecording {
  id: string;
  active: boolean;
}

/** A telephony-session event as far as the watch reads it (parties' status codes and recordings). */
export interface TelephonySessionEvent {
  telephonySessionId: string;
  sequence: number;
  parties: { status: string; recordings: SessionRecording[] }[];
}

export type GatewayMessage =
  | ConnectionDetails
  | { type: "ClientResponse"; messageId: string; status: number; body: unknown }
  | { type: "ServerNotification"; wsc: Wsc | undefined; event: TelephonySessionEvent | undefined }
  | { type: "Heartbeat" }
  | { type: "Error"; errorCode: string; message: string };

const DEFAULT_RECOVERY_TIMEOUT_SEC = 180;

type Json = Record<string, unknown>;

function object(value: unknown): Json | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function wscOf(meta: Json): Wsc | undefined {
  const wsc = object(meta.wsc);
  return wsc && typeof wsc.token === "string" && typeof wsc.sequence === "number"
    ? { token: wsc.token, sequence: wsc.sequence }
    : undefined;
}

function telephonyEvent(notification: Json | undefined): TelephonySessionEvent | undefined {
  const body = object(notification?.body);
  if (!body || typeof body.telephonySessionId !== "string") return undefined;
  const parties = Array.isArray(body.parties) ? body.parties : [];
  return {
    telephonySessionId: body.telephonySessionId,
    sequence: typeof body.sequence === "number" ? body.sequence : 0,
    parties: parties.map((raw) => {
      const party = object(raw);
      const recordings = Array.isArray(party?.recordings) ? party.recordings : [];
      return {
        status: String(object(party?.status)?.code ?? ""),
        recordings: recordings
          .map(object)
          .filter((r): r is Json => r !== undefined && (typeof r.id === "string" || typeof r.id === "number"))
          .map((r) => ({ id: String(r.id), active: r.active === true })),
      };
    }),
  };
}

export function parseGatewayMessage(text: string): GatewayMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const meta = object(value[0]);
  const body = object(value[1]);
  switch (meta?.type) {
    case "ConnectionDetails": {
      const state = body?.recoveryState;
      return {
        type: "ConnectionDetails",
        wsc: wscOf(meta),
        recoveryTimeoutSec:
          typeof body?.recoveryTimeout === "number" ? body.recoveryTimeout : DEFAULT_RECOVERY_TIMEOUT_SEC,
        recoveryState: state === "Successful" || state === "Failed" ? state : undefined,
      };
    }
    case "ClientResponse":
      return {
        type: "ClientResponse",
        messageId: String(meta.messageId ?? ""),
        status: Number(meta.status ?? 0),
        body: value[1],
      };
    case "ServerNotification":
      return { type: "ServerNotification", wsc: wscOf(meta), event: telephonyEvent(body) };
    case "Heartbeat":
      return { type: "Heartbeat" };
    case "Error":
      return {
        type: "Error",
        errorCode: String(body?.errorCode ?? ""),
        message: String(body?.message ?? ""),
      };
    default:
      return undefined;
  }
}

/** The recordings a call has once one of its parties is Disconnected: the moment to look in the call log. */
export function recordingsOfEndedCall(event: TelephonySessionEvent): string[] {
  return event.parties
    .filter((party) => party.status === "Disconnected" || party.status === "Gone")
    .flatMap((party) => party.recordings.map((r) => r.id));
}
