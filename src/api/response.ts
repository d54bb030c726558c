import { Readable } from "node:stream";
import type { ApiHeaders, ApiResponse } from "./types.js";

/** Header values as Node's `http` hands them over: lower-case names, repeated headers as arrays. */
export type RawHeaders = Record<string, string | string[] | undefined>;

export interface ResponseInit {
  status: number;
  url: string;
  headers?: RawHeaders;
  /** A stream (the socket's), or fixed content (tests, error bodies). */
  body?: Readable | string | Uint8Array;
}

/** Small bodies are drained so the keep-alive connection can serve the next request; big ones cost a reconnect. */
const DRAIN_LIMIT = 64 * 1024;

export function createResponse(init: ResponseInit): ApiResponse {
  const body = toReadable(init.body);
  // A reset or an abort may error a body nobody reads (yet); a reader still sees the error through its own
  // listener, but without any listener it would crash the process.
  body.on("error", () => undefined);
  const headers = headersOf(init.headers ?? {});
  const { status, url } = init;
  return {
    status,
    ok: status >= 200 && status < 300,
    url,
    headers,
    body,
    async text() {
      // Decoded as it arrives: each socket buffer becomes garbage at once instead of waiting in a chunk list
      // (a 1000-record page is ~1 MB; collecting Buffers kept ~25 MB of them alive across a long listing).
      body.setEncoding("utf8");
      let text = "";
      for await (const chunk of body) text += chunk as string;
      return text;
    },
    async json<T>() {
      return JSON.parse(await this.text()) as T;
    },
    discard() {
      if (body.destroyed || body.readableEnded) return;
      const length = Number(headers.get("content-length"));
      if (Number.isFinite(length) && length <= DRAIN_LIMIT) {
        body.resume();
      } else body.destroy();
    },
  };
}

function toReadable(body: ResponseInit["body"]): Readable {
  if (body instanceof Readable) return body;
  return Readable.from(body === undefined ? [] : [Buffer.from(body)], { objectMode: false });
}

function headersOf(raw: RawHeaders): ApiHeaders {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) lower.set(name.toLowerCase(), Array.isArray(value) ? value.join(", ") : value);
  }
  return { get: (name) => lower.get(name.toLowerCase()) ?? null };
}
