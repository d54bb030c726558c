import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { listenOnLoopback } from "./loopback.js";

export interface ConditionalFront {
  endpoint: string;
  /** Conditional requests answered 412 (the condition did not hold). */
  refused: number;
  stop(): Promise<void>;
}

/**
 * A front for the test S3 server that honours conditional writes as AWS S3 has since 2024 — `If-None-Match: *`
 * and `If-Match` on PutObject, `If-Match` on DeleteObject — which s3rver ignores. Every write and delete of one
 * key passes here one at a time, and a conditional one is checked against the object's current ETag first, so
 * of two racing creates exactly one wins, as on a real store. Everything else is passed on unchanged.
 */
export async function startConditionalFront(target: string): Promise<ConditionalFront> {
  const upstream = new URL(target);
  const queues = new Map<string, Promise<void>>();
  const front: ConditionalFront = { endpoint: "", refused: 0, stop: async () => undefined };

  const forward = (req: IncomingMessage, res: ServerResponse, headers = req.headers) =>
    new Promise<void>((done) => {
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", () => done());
          answer.on("error", () => done());
        },
      );
      out.on("error", () => {
        res.destroy();
        done();
      });
      req.pipe(out);
    });

  const currentEtag = (path: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      const head = request(
        { host: upstream.hostname, port: upstream.port, method: "HEAD", path },
        (answer) => {
          answer.resume();
          resolve(answer.statusCode === 200 ? String(answer.headers.etag) : undefined);
        },
      );
      head.on("error", reject);
      head.end();
    });

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://front");
    const multipart = url.searchParams.has("uploadId") || url.searchParams.has("uploads");
    if ((req.method !== "PUT" && req.method !== "DELETE") || multipart) {
      void forward(req, res);
      return;
    }
    const key = url.pathname;
    const previous = queues.get(key) ?? Promise.resolve();
    const turn = previous.then(async () => {
      const ifNoneMatch = req.headers["if-none-match"];
      const ifMatch = req.headers["if-match"];
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const etag = await currentEtag(key).catch(() => undefined);
        const holds = ifNoneMatch === "*" ? etag === undefined : etag !== undefined && etag === ifMatch;
        if (!holds) {
          front.refused += 1;
          await refuse(req, res);
          return;
        }
      }
      const { "if-none-match": _a, "if-match": _b, ...rest } = req.headers;
      await forward(req, res, rest);
    });
    queues.set(
      key,
      turn.catch(() => undefined),
    );
  });
  const listening = await listenOnLoopback(server);
  front.endpoint = listening.origin;
  front.stop = listening.stop;
  return front;
}

/** 412 PreconditionFailed as S3 answers it, once the request body has been read. */
function refuse(req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(412, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`,
        () => done(),
      );
    });
  });
}
