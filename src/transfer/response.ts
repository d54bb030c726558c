import type { ApiResponse } from "../api/types.js";
import { isTransientStatus } from "../retry.js";

/**
 * The rules a content response must pass before a byte of it is kept: the status decides what happens, the
 * Content-Type must be audio, and the framing (Content-Length, chunking, Content-Range) must let a complete
 * body be told from a cut-short one. Pure functions of the response; the transfer acts on the verdict.
 */

/** What to do with a response that is not a body to keep. */
export type StatusVerdict =
  | { kind: "body" }
  /** 416 on a resume: the partial may already hold every byte. */
  | { kind: "range-not-satisfiable" }
  /** Gone for good (404): no later run will resume these bytes. */
  | { kind: "gone"; reason: string }
  /**
   * Refused (403): a permission this login lacks (an app without ReadCallRecording, a user who may not read
   * that extension's recordings) — no verdict on the recording. It fails this run and holds the incremental
   * mark, so the run after the permission is given fetches it (taken as gone, it was never asked for again).
   */
  | { kind: "denied"; reason: string }
  | { kind: "retry"; reason: string; retryAfter: string | null }
  | { kind: "fail"; reason: string };

export function judgeStatus(res: ApiResponse, resuming: boolean): StatusVerdict {
  const status = res.status;
  if (status === 200 || status === 206) return { kind: "body" };
  if (status === 416 && resuming) return { kind: "range-not-satisfiable" };
  if (status === 404) return { kind: "gone", reason: "recording not found (HTTP 404)" };
  if (status === 403) return { kind: "denied", reason: "access denied (HTTP 403)" };
  if (isTransientStatus(status))
    return { kind: "retry", reason: `HTTP ${status}`, retryAfter: res.headers.get("retry-after") };
  return { kind: "fail", reason: `unexpected HTTP ${status}` };
}

/** Where a body to keep starts and how long the whole recording is. */
export interface BodyPlan {
  contentType: string;
  /** The offset of the body's first byte: 0, or the resume offset of a 206. */
  start: number;
  /** Full size of the recording, when the response says it. */
  total: number | undefined;
}

export type BodyVerdict =
  | { kind: "accept"; plan: BodyPlan }
  /** Not a recording at all: retrying will not make it one. */
  | { kind: "reject"; reason: string }
  /** The framing cannot prove completeness: ask again. */
  | { kind: "retry"; reason: string }
  /** The response does not fit the partial: drop it and start over. */
  | { kind: "restart"; reason: string };

/** Judge a 200/206 body against the resume offset that was asked for (0 = none). */
export function judgeBody(res: ApiResponse, offset: number): BodyVerdict {
  const contentType = mediaTypeOf(res);
  if (!contentType.startsWith("audio/")) {
    return {
      kind: "reject",
      reason: `not a recording: HTTP ${res.status} with ${contentType || "no"} Content-Type`,
    };
  }
  const length = headerNumber(res.headers.get("content-length"));
  if (length === undefined && res.status === 200 && !isChunked(res)) {
    // The body ends when the connection closes, so a cut-short body looks exactly like a complete one.
    return {
      kind: "retry",
      reason: "no Content-Length and not chunked: a complete body cannot be told from a truncated one",
    };
  }
  if (res.status !== 206) return { kind: "accept", plan: { contentType, start: 0, total: length } };
  const range = parseContentRange(res.headers.get("content-range"));
  if (!range || range.start !== offset)
    return { kind: "restart", reason: `unexpected Content-Range ${res.headers.get("content-range")}` };
  if (length !== undefined && length !== range.end - range.start + 1)
    return { kind: "restart", reason: "Content-Length does not match Content-Range" };
  // We ask for an open range, so its last byte is the file's last byte even when the total is "*".
  return { kind: "accept", plan: { contentType, start: offset, total: range.total ?? range.end + 1 } };
}

interface ContentRange {
  start: number;
  end: number;
  total: number | undefined;
}

export function parseContentRange(header: string | null): ContentRange | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header?.trim() ?? "");
  if (!match) return undefined;
  const [start, end] = [Number(match[1]), Number(match[2])];
  const total = match[3] === "*" ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

function mediaTypeOf(res: ApiResponse): string {
  return (res.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Chunked framing has an explicit end; Node's parser reports a body cut before it as an error. */
function isChunked(res: ApiResponse): boolean {
  return /(^|,)\s*chunked\s*$/i.test(res.headers.get("transfer-encoding") ?? "");
}

function headerNumber(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
