import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { RECORDING_NOT_FOUND } from "./call-log.js";
import { contentChunks } from "./content.js";
import type { RecordingInfo } from "./dataset.js";
import type { ContentFault, RateLimitedFault } from "./faults.js";
import { type HeaderBag, sendError, sleep } from "./http-util.js";
import { type EmulatorState, lacksPermission, missingAppPermission } from "./state.js";

const CHUNK = 256 * 1024;

type ByteRange = { start: number; end: number } | "unsatisfiable" | undefined;

/**
 * One `bytes=` range (a-b, a-, -n). Anything else (multiple ranges, other units, garbage) is ignored and the
 * whole body is sent, as RFC 9110 allows. `end` is exclusive.
 */
export function parseRange(header: string | undefined, size: number): ByteRange {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  const end = last === "" ? size : Math.min(size, Number(last) + 1);
  if (last !== "" && Number(last) < start) return undefined;
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** GET/HEAD {media}/restapi/v1.0/account/{acc}/recording/{id}/content (Heavy, same bucket as the API origin). */
export async function handleContent(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  recordingId: string,
): Promise<void> {
  const stats = state.stats;
  stats.contentRequests++;
  if (stats.contentRequestsByRecording[recordingId] === undefined) stats.contentOrder.push(recordingId);
  stats.contentRequestsByRecording[recordingId] = (stats.contentRequestsByRecording[recordingId] ?? 0) + 1;
  if (sendBareRateLimit(state, res, state.faults.rateLimitFor("content", recordingId))) return;
  // The permission is checked after the counting: a refused request still counts as asked by its user.
  const auth = state.authorize(req, res, url, "heavy");
  if (!auth) return;
  const { headers } = auth;
  const user = auth.session.user.ownerId;
  stats.contentRequestsByUser[user] = (stats.contentRequestsByUser[user] ?? 0) + 1;
  if (state.faults.current.rejectContentTokens) {
    state.stats.countUnauthorized("OAU-213");
    sendError(res, TOKEN_NOT_FOUND, headers);
    return;
  }
  if (lacksPermission(auth.session, "ReadCallRecording")) {
    sendError(res, missingAppPermission("ReadCallRecording"), headers);
    return;
  }
  const recording = state.ownAccountOf(auth.session.user) ? state.liveRecording(recordingId) : undefined;
  if (!recording || state.foreign.has(recordingId)) {
    sendError(res, RECORDING_NOT_FOUND, headers);
    return;
  }
  if (state.faults.redirectsContent(recordingId)) {
    // Storage elsewhere: a presigned URL on another host, as S3/CloudFront would serve it.
    stats.faultsInjected.redirect++;
    const location = `${state.cdnOrigin}/cdn/${recordingId}?expires=${Date.now() + 300_000}&signature=emulator`;
    res.writeHead(307, { ...headers, Location: location, "Content-Length": 0 });
    res.end();
    return;
  }
  await sendRecording(state, req, res, url, recording, headers);
}

const TOKEN_NOT_FOUND = {
  status: 401,
  errorCode: "OAU-213",
  legacyCode: "TokenInvalid",
  message: "Token not found",
} as const;

/**
 * The fault's 429 WITHOUT X-Rate-Limit-* headers (account-level and global limits send none), before
 * authentication, counted nowhere but in the stats. Returns whether it answered.
 */
export function sendBareRateLimit(
  state: EmulatorState,
  res: ServerResponse,
  fault: RateLimitedFault | undefined,
): boolean {
  if (!fault) return false;
  state.stats.faultsInjected.rateLimited++;
  state.stats.rateLimited++;
  const code = fault.errorCode ?? "CMN-301";
  const message =
    code === "CMN-304"
      ? "Duplicate concurrent request"
      : code === "CMN-310"
        ? "Global rate limit exceeded"
        : "Request rate exceeded";
  const headers: HeaderBag =
    fault.retryAfter === undefined ? {} : { "Retry-After": String(fault.retryAfter) };
  sendError(res, { status: 429, errorCode: code, message }, headers);
  return true;
}

/**
 * The CDN origin: `GET /cdn/{recordingId}?expires&signature`, the target of `redirectContent`. No token needed
 * (the URL is the permission); it records whether a token reached it anyway, which must never happen.
 */
export async function handleCdn(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", state.cdnOrigin);
  const stats = state.stats;
  stats.cdnRequests++;
  if (req.headers.authorization !== undefined) stats.cdnAuthorizationHeaders++;
  if (url.searchParams.has("access_token")) stats.cdnAccessTokenQueries++;
  const id = /^\/cdn\/([^/]+)$/.exec(url.pathname)?.[1];
  const recording = id === undefined ? undefined : state.liveRecording(id);
  if (!recording || !url.searchParams.has("signature")) {
    res.writeHead(403, { "Content-Type": "text/plain", "Content-Length": 13 });
    res.end("AccessDenied\n");
    return;
  }
  await sendRecording(state, req, res, url, recording, {});
}

/** The body of a recording (ranges, ETag, disposition, faults) once the request is allowed. */
async function sendRecording(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  recording: RecordingInfo,
  headers: HeaderBag,
): Promise<void> {
  const stats = state.stats;
  const fault = state.faults.forContent(recording.id);
  if (fault?.kind === "unavailable") {
    stats.faultsInjected.unavailable++;
    sendError(
      res,
      { status: 503, errorCode: "CMN-503", message: "Service temporarily unavailable" },
      { ...headers, "Retry-After": String(fault.retryAfterSec) },
    );
    return;
  }
  const range = parseRange(req.headers.range, recording.bytes);
  const etag = `"${recording.id}-${recording.bytes}"`;
  const ifRange = req.headers["if-range"];
  const honoured = ifRange === undefined || ifRange === etag ? range : undefined;
  if (honoured === "unsatisfiable") {
    sendError(
      res,
      { status: 416, errorCode: "CMN-107", message: "Requested range not satisfiable" },
      { ...headers, "Content-Range": `bytes */${recording.bytes}` },
    );
    return;
  }
  const { start, end } = honoured ?? { start: 0, end: recording.bytes };
  const bodyHeaders: HeaderBag = {
    ...headers,
    "Content-Type": recording.contentType,
    "Content-Length": String(end - start),
    "Accept-Ranges": "bytes",
    ETag: etag,
    ...(honoured && { "Content-Range": `bytes ${start}-${end - 1}/${recording.bytes}` }),
    ...contentDisposition(url, recording),
  };
  res.writeHead(honoured ? 206 : 200, bodyHeaders);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  await streamBody(state, res, recording, start, end, fault);
}

function contentDisposition(url: URL, recording: RecordingInfo): HeaderBag {
  const disposition = url.searchParams.get("contentDisposition");
  if (!disposition) return {};
  const name =
    url.searchParams.get("contentDispositionFilename") ??
    `${recording.id}.${recording.contentType === "audio/wav" ? "wav" : "mp3"}`;
  return {
    "Content-Disposition": `${disposition.toLowerCase()}; filename="${name.replace(/["\\\r\n]/g, "_")}"`,
  };
}

/** Wait until the response can take more data, or resolve false if the client went away. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

function flushed(res: ServerResponse, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, () => resolve());
  });
}

/** Stream [start, end) with backpressure, optional pacing, and an optional reset/truncation part-way. */
async function streamBody(
  state: EmulatorState,
  res: ServerResponse,
  recording: RecordingInfo,
  start: number,
  end: number,
  fault: ContentFault,
): Promise<void> {
  const stats = state.stats;
  const bandwidth = state.faults.current.bandwidth;
  const chunkSize = bandwidth ? Math.max(1024, Math.min(64 * 1024, Math.floor(bandwidth / 20))) : CHUNK;
  const length = end - start;
  const cutAt =
    fault && fault.kind !== "unavailable"
      ? Math.max(0, Math.min(fault.afterBytes ?? Math.floor(length / 2), length - 1))
      : undefined;
  const socket = res.socket as Socket;
  const began = Date.now();
  let sent = 0;
  stats.downloadStarted();
  let ended = false;
  const finish = (completed: boolean) => {
    if (ended) return;
    ended = true;
    stats.downloadEnded(completed);
  };
  res.once("close", () => finish(false));
  for (const chunk of contentChunks(recording, start, end, chunkSize)) {
    if (res.destroyed) return finish(false);
    if (cutAt !== undefined && sent + chunk.length > cutAt) {
      const part = chunk.subarray(0, cutAt - sent);
      if (part.length > 0) await flushed(res, part);
      sent += part.length;
      stats.bytesSent += part.length;
      const kind = fault?.kind === "reset" ? "reset" : "truncate";
      stats.faultsInjected[kind]++;
      finish(false);
      if (kind === "reset") {
        // Give the kernel a moment to deliver what was written, then abort with RST.
        await sleep(20);
        socket.resetAndDestroy();
      } else {
        socket.end(); // clean FIN although fewer bytes than Content-Length went out
      }
      return;
    }
    const writable = res.write(chunk);
    sent += chunk.length;
    stats.bytesSent += chunk.length;
    if (!writable && !(await drained(res))) return finish(false);
    if (bandwidth) {
      const ahead = (sent / bandwidth) * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
    }
  }
  res.end(() => finish(true));
}
