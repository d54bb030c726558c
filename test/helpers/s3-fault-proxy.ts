import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback.js";

export interface S3FaultPlan {
  /** Answer these PUT requests (1-based, counted over every PUT) with 503 SlowDown instead of passing them on. */
  slowDown?: number[];
  /** Reset the connection of these PUT requests once their headers arrived. */
  reset?: number[];
  /** Refuse every PUT whose path matches (403 AccessDenied), as a bucket policy that denies a prefix does. */
  deny?: RegExp;
  /**
   * A store out of space: every PUT and POST (new objects, parts, uploads) is answered as MinIO answers below its
   * free-space threshold (507 XMinioStorageFull); reads, lists and deletes still work.
   */
  full?: boolean;
  /** A store that stops answering: requests (any method) whose path matches are read and never answered. */
  stall?: RegExp;
  /** Only requests of this method stall (default: any). */
  stallMethod?: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  /** A store that keeps damaged bytes: one byte of every PUT body whose path matches is flipped on the way. */
  corrupt?: RegExp;
  /**
   * A store whose listings never end: every ListObjectsV2 answer says it is truncated and names the next of
   * these continuation tokens in turn (one token: it repeats; several: they cycle); "fresh" names a new one
   * every time. The request's own token is dropped before it is passed on, so every page is the first page.
   */
  listTokens?: readonly string[] | "fresh";
  /**
   * A store whose answers arrive in pieces that end inside a multi-byte UTF-8 character: GET answers whose path
   * matches are passed on in pieces of about 4 KiB, each cut after the first byte of a character, 5 ms apart (so
   * the client reads them as separate chunks).
   */
  splitUtf8?: RegExp;
  /** A store that echoes the session token: every request is answered 400 with it in the error's message. */
  echoSessionToken?: boolean;
  /**
   * Answer GetObjectLockConfiguration (`GET /bucket?object-lock`, which s3rver does not know) as AWS does for a
   * bucket created with Object Lock (`enabled`) or without it (`disabled`: 404
   * ObjectLockConfigurationNotFoundError). The lock headers of writes are recorded in `requests` either way.
   */
  objectLock?: "enabled" | "disabled";
}

/** Any request as the proxy saw it (before passing it on). */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A PUT as the store received it: its headers and the SHA-256 (base64) and MD5 (hex) of its body. */
export interface SeenPut {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  sha256: string;
  md5: string;
}

export interface S3FaultProxy {
  endpoint: string;
  faults: {
    slowDown: number;
    reset: number;
    denied: number;
    full: number;
    stalled: number;
    corrupted: number;
    /** ListObjectsV2 requests answered with a never-ending token. */
    listed: number;
    /** Pieces written that end inside a character. */
    split: number;
  };
  /** Every PUT passed on, in order (recorded at the server side, after any damage). */
  puts: SeenPut[];
  /** Every request, in the order it arrived. */
  requests: SeenRequest[];
  stop(): Promise<void>;
}

/**
 * A small HTTP proxy in front of a real S3-compatible server that fails chosen PUT requests the way a busy store
 * does (503 SlowDown, a reset connection) and passes everything else on unchanged, so that the retries of the
 * real client are tested against a real server.
 */
export async function startS3FaultProxy(target: string, plan: S3FaultPlan): Promise<S3FaultProxy> {
  const upstream = new URL(target);
  const faults = { slowDown: 0, reset: 0, denied: 0, full: 0, stalled: 0, corrupted: 0, listed: 0, split: 0 };
  const seen: SeenPut[] = [];
  const requests: SeenRequest[] = [];
  let puts = 0;
  const server = createServer((req, res) => {
    if (plan.echoSessionToken) {
      const token = String(req.headers["x-amz-security-token"] ?? "");
      answerError(req, res, 400, "InvalidArgument", `The security token '${token}' is not valid here`);
      return;
    }
    requests.push({
      method: req.method ?? "",
      path: decodeURIComponent(req.url ?? ""),
      headers: { ...req.headers },
    });
    if (plan.objectLock && req.method === "GET" && /[?&]object-lock(=|&|$)/.test(req.url ?? "")) {
      if (plan.objectLock === "enabled") {
        req.resume();
        res.writeHead(200, { "content-type": "application/xml" });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`,
        );
      } else {
        answerError(
          req,
          res,
          404,
          "ObjectLockConfigurationNotFoundError",
          "Object Lock configuration does not exist for this bucket",
        );
      }
      return;
    }
    if (
      plan.stall?.test(decodeURIComponent(req.url ?? "")) &&
      (plan.stallMethod === undefined || plan.stallMethod === req.method)
    ) {
      faults.stalled += 1;
      req.resume(); // take the body, answer nothing
      return;
    }
    if (plan.full && (req.method === "PUT" || req.method === "POST")) {
      faults.full += 1;
      answerError(
        req,
        res,
        507,
        "XMinioStorageFull",
        "Storage backend has reached its minimum free drive threshold.",
      );
      return;
    }
    if (req.method === "PUT") {
      puts += 1;
      if (plan.deny?.test(decodeURIComponent(req.url ?? ""))) {
        faults.denied += 1;
        answerError(req, res, 403, "AccessDenied", "Access Denied");
        return;
      }
      if (plan.slowDown?.includes(puts)) {
        faults.slowDown += 1;
        answerError(req, res, 503, "SlowDown", "Please reduce your request rate.");
        return;
      }
      if (plan.reset?.includes(puts)) {
        faults.reset += 1;
        req.socket.resetAndDestroy();
        return;
      }
    }
    if (plan.listTokens && req.method === "GET" && isListing(req.url ?? "")) {
      const tokens = plan.listTokens;
      const token =
        tokens === "fresh" ? `fresh-${faults.listed}` : (tokens[faults.listed % tokens.length] as string);
      faults.listed += 1;
      forwardListing(upstream, req, res, token);
      return;
    }
    const splitting = req.method === "GET" && plan.splitUtf8?.test(decodeURIComponent(req.url ?? ""));
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (splitting) void trickle(answer, res, () => faults.split++);
        else answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    if (req.method !== "PUT") {
      req.pipe(forward);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = decodeURIComponent(req.url ?? "");
      if (plan.corrupt?.test(path) && body.length > 0) {
        faults.corrupted += 1;
        const at = body.length >> 1;
        body[at] = (body[at] ?? 0) ^ 0xff;
      }
      seen.push({
        path,
        headers: { ...req.headers },
        sha256: createHash("sha256").update(body).digest("base64"),
        md5: createHash("md5").update(body).digest("hex"),
      });
      forward.end(body);
    });
  });
  const { origin, stop } = await listenOnLoopback(server);
  return { endpoint: origin, faults, puts: seen, requests, stop };
}

/** An S3 error document, once the request body has been read (as a store answers). */
function answerError(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
) {
  req.resume();
  req.on("end", () => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    );
  });
}

function isListing(url: string): boolean {
  return new URL(url, "http://x").searchParams.get("list-type") === "2";
}

/** Pass a listing on without its continuation token; answer it as truncated, continued by `token`. */
function forwardListing(upstream: URL, req: IncomingMessage, res: ServerResponse, token: string): void {
  const url = new URL(req.url ?? "/", "http://x");
  url.searchParams.delete("continuation-token");
  const forward = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: "GET",
      path: `${url.pathname}${url.search}`,
      // Signed for the original query: s3rver checks no signature against its own credentials' secret.
      headers: req.headers,
    },
    (answer) => {
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("end", () => {
        const xml = Buffer.concat(chunks)
          .toString("utf8")
          .replace(/<NextContinuationToken>[^<]*<\/NextContinuationToken>/, "")
          .replace(
            /<IsTruncated>(true|false)<\/IsTruncated>/,
            `<IsTruncated>true</IsTruncated><NextContinuationToken>${token}</NextContinuationToken>`,
          );
        const headers = { ...answer.headers };
        delete headers["content-length"];
        res.writeHead(answer.statusCode ?? 502, headers);
        res.end(xml);
      });
    },
  );
  forward.on("error", () => res.destroy());
  req.pipe(forward);
}

/** Pass a body on in pieces of ~4 KiB, each ending after the first byte of a multi-byte character, 5 ms apart. */
async function trickle(answer: IncomingMessage, res: ServerResponse, splitInside: () => void): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  let at = 0;
  while (at < body.length) {
    let end = Math.min(at + 4096, body.length);
    // A lead byte of a multi-byte character is 11xxxxxx: cut just after it.
    while (end < body.length && ((body[end - 1] ?? 0) & 0xc0) !== 0xc0) end++;
    if (end < body.length) splitInside();
    res.write(body.subarray(at, end));
    at = end;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  res.end();
}
