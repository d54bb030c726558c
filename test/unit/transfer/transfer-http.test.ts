import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHttpTransport } from "../../../src/api/transport.js";
import type { ApiClient } from "../../../src/api/types.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { relPath } from "../../../src/destination/rel-path.js";
import { Logger } from "../../../src/log/logger.js";
import { transferRecording } from "../../../src/transfer/attempt.js";
import type { TransferJob } from "../../../src/transfer/types.js";
import { tempDir } from "../../helpers/cli.js";

// Framing is decided by Node's HTTP parser on a real socket, so these tests talk to a tiny raw TCP server.

const CONTENT = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) % 256));
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Each connection gets the next scripted raw answer (the last one repeats). */
type Answer = (socket: Socket) => void;

let server: Server;
let base: string;
let dir: ReturnType<typeof tempDir>;
let requests: number;

function serve(...answers: Answer[]): Promise<void> {
  requests = 0;
  server = createServer((socket) => {
    socket.once("data", () => {
      const answer = answers[Math.min(requests, answers.length - 1)] as Answer;
      requests += 1;
      answer(socket);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      resolve();
    }),
  );
}

const head = (lines: string[]) =>
  `HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n${lines.join("\r\n")}\r\n\r\n`;

/** No Content-Length, no chunking: the body ends when the server closes the connection. */
const closeDelimited =
  (body: Buffer): Answer =>
  (socket) => {
    socket.write(head(["Connection: close"]));
    socket.end(body);
  };

const chunked =
  (body: Buffer, complete: boolean): Answer =>
  (socket) => {
    socket.write(head(["Transfer-Encoding: chunked", "Connection: close"]));
    socket.write(`${body.length.toString(16)}\r\n`);
    socket.write(body);
    if (complete) socket.end("\r\n0\r\n\r\n");
    else socket.destroy();
  };

const withLength =
  (body: Buffer): Answer =>
  (socket) => {
    socket.write(head([`Content-Length: ${body.length}`, "Connection: close"]));
    socket.end(body);
  };

function api(): ApiClient {
  const send = createHttpTransport();
  return {
    get: (url, init) =>
      send(new URL(url, base), {
        headers: init?.headers ?? {},
        ...(init?.signal ? { signal: init.signal } : {}),
      }),
    getJson: () => Promise.reject(new Error("not used")),
    getJsonWith: () => Promise.reject(new Error("not used")),
  };
}

function run() {
  const job: TransferJob = {
    recordingId: "7",
    contentUri: `${base}/recording/7/content`,
    mayBeEmpty: false,
    choosePath: async () => ({ key: relPath("rec.mp3") }),
    couldBeNamed: () => true,
    refuse: () => undefined,
    commit: async () => undefined,
  };
  return transferRecording(job, {
    api: api(),
    destination: new LocalFolder(dir.path),
    signal: new AbortController().signal,
    log: new Logger("quiet"),
    retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 2000 },
  });
}

beforeEach(() => {
  dir = tempDir("rcr-transfer-http-");
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  dir.cleanup();
});

describe("transfer framing over real HTTP", () => {
  it("never saves a close-delimited body (its truncation is invisible): retries, then fails with a reason", async () => {
    await serve(closeDelimited(CONTENT.subarray(0, 1000)));
    await expect(run()).rejects.toMatchObject({
      permanent: false,
      reason: expect.stringContaining("Content-Length"),
    });
    expect(requests).toBe(3);
    expect(existsSync(join(dir.path, "rec.mp3"))).toBe(false);
  });

  it("accepts a chunked body without Content-Length", async () => {
    await serve(chunked(CONTENT, true));
    const result = await run();
    expect(result.sha256).toBe(sha(CONTENT));
    expect(readFileSync(join(dir.path, "rec.mp3"))).toEqual(CONTENT);
  });

  it("retries a chunked body cut short instead of saving it", async () => {
    await serve(chunked(CONTENT.subarray(0, 1000), false), withLength(CONTENT));
    const result = await run();
    expect(requests).toBe(2);
    expect(result.sha256).toBe(sha(CONTENT));
  });
});
