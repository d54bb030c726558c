import type { IncomingMessage, ServerResponse } from "node:http";

/** Headers the handlers accumulate before the status line is written (rate-limit headers, mostly). */
export type HeaderBag = Record<string, string>;

/** A RingCentral-style error: `errors[]` always, legacy top-level `errorCode`/`message`, OAuth fields optional. */
export interface ApiErrorSpec {
  status: number;
  errorCode: string;
  message: string;
  /** Legacy top-level code when it differs from the nested one (e.g. "TokenInvalid"). */
  legacyCode?: string;
  /** RFC 6749 fields of token-endpoint errors. */
  oauth?: { error: string; description?: string };
  /** Extra fields of the nested error (parameterName, permissionName...). */
  details?: Record<string, unknown>;
  /** Extra top-level fields (permissionName on 403s). */
  topLevel?: Record<string, unknown>;
  headers?: HeaderBag;
}

export function errorBody(spec: ApiErrorSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (spec.oauth) {
    body.error = spec.oauth.error;
    body.error_description = spec.oauth.description ?? spec.message;
  }
  body.errorCode = spec.legacyCode ?? spec.errorCode;
  body.message = spec.message;
  body.errors = [{ errorCode: spec.errorCode, message: spec.message, ...spec.details }];
  Object.assign(body, spec.topLevel);
  return body;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: HeaderBag = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, spec: ApiErrorSpec, headers: HeaderBag = {}): void {
  sendJson(res, spec.status, errorBody(spec), { ...headers, ...spec.headers });
}

/** Read a small request body (token and control endpoints only). */
export async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error("request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
