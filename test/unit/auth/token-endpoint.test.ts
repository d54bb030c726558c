import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SdkTokenEndpoint } from "../../../src/auth/token-endpoint.js";
import { TokenRequestRejected } from "../../../src/auth/token-failure.js";
import { OperationError } from "../../../src/errors.js";
import type { RetryBudget } from "../../../src/retry.js";
import { APP, memoryLogger, pair } from "./fakes.js";

interface Seen {
  path: string;
  form: URLSearchParams;
  authorization: string | undefined;
}
type Reply = (res: ServerResponse) => void;

let server: Server;
let origin: string;
let seen: Seen[];
let replies: Reply[];

const tokenJson = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      access_token: "new-access-token-123",
      token_type: "bearer",
      expires_in: 1800,
      refresh_token: "new-refresh-token-123",
      refresh_token_expires_in: 86400,
      scope: "ReadCallLog",
      owner_id: "4242",
      endpoint_id: "ep",
      session_id: "s1",
    }),
  );
};
const status =
  (code: number, body: object = {}, headers: Record<string, string> = {}): Reply =>
  (res) => {
    res.writeHead(code, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

beforeEach(async () => {
  seen = [];
  replies = [];
  server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({
        path: req.url ?? "",
        form: new URLSearchParams(body),
        authorization: req.headers.authorization,
      });
      (replies.shift() ?? tokenJson)(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((r) => server.close(r));
});

const FAST: RetryBudget = {
  attempts: 3,
  baseDelayMs: 10,
  maxDelayMs: 10,
  jitter: "none",
  rateLimitWaits: 2,
  defaultRetryAfterMs: 10,
};
const endpoint = () => new SdkTokenEndpoint(memoryLogger().log, FAST);
const app = () => ({ ...APP, server: origin });

describe("SdkTokenEndpoint", () => {
  it("sends the JWT grant with Basic client auth and computes expiry on receipt", async () => {
    const before = Date.now();
    const tokens = await endpoint().jwtGrant(app());
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe("/restapi/oauth/token");
    expect(seen[0]?.form.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    expect(seen[0]?.form.get("assertion")).toBe(APP.jwt);
    expect(seen[0]?.authorization).toBe(
      `Basic ${Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString("base64")}`,
    );
    expect(tokens).toMatchObject({
      accessToken: "new-access-token-123",
      ownerId: "4242",
      accessTokenTtl: 1800,
    });
    expect(tokens.accessTokenExpiresAt).toBeGreaterThanOrEqual(before + 1_800_000);
  });

  it("asks a refresh for the lifetimes granted before (never -1)", async () => {
    await endpoint().refreshGrant(app(), pair(Date.now(), { accessTokenTtl: 1800, refreshTokenTtl: 86400 }));
    const form = seen[0]?.form;
    expect(form?.get("grant_type")).toBe("refresh_token");
    expect(form?.get("access_token_ttl")).toBe("1800");
    expect(form?.get("refresh_token_ttl")).toBe("86400");
  });

  it("does not re-send a token request the server answered 401 (the SDK's own retry is off)", async () => {
    replies.push(
      status(401, {
        error: "invalid_client",
        errors: [{ errorCode: "OAU-123", message: "Client authentication is required" }],
      }),
    );
    const error = await endpoint()
      .jwtGrant(app())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestRejected);
    expect((error as TokenRequestRejected).oauthError).toBe("invalid_client");
    expect(seen).toHaveLength(1);
  });

  it("classifies invalid_grant without retrying", async () => {
    replies.push(
      status(400, {
        error: "invalid_grant",
        error_description: "Token revoked",
        errors: [{ errorCode: "OAU-211" }],
      }),
    );
    const error = await endpoint()
      .refreshGrant(app(), pair(Date.now()))
      .catch((e: unknown) => e);
    expect((error as TokenRequestRejected).invalidGrant).toBe(true);
    expect((error as Error).message).toBe("Token revoked (OAU-211)");
    expect(seen).toHaveLength(1);
  });

  it("waits out a 429 for Retry-After, then succeeds", async () => {
    replies.push(status(429, { errors: [{ errorCode: "CMN-301" }] }, { "retry-after": "0.2" }));
    const started = Date.now();
    await endpoint().jwtGrant(app());
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(seen).toHaveLength(2);
  });

  it("retries 5xx with backoff and finally fails with an operation error (exit 1)", async () => {
    replies.push(status(503), status(502));
    await endpoint().refreshGrant(app(), pair(Date.now()));
    expect(seen).toHaveLength(3);
    replies.push(status(500), status(500), status(500));
    await expect(endpoint().refreshGrant(app(), pair(Date.now()))).rejects.toBeInstanceOf(OperationError);
    expect(seen).toHaveLength(6);
  });

  it("treats an unreachable server as a retried network error", async () => {
    const dead = { ...APP, server: "http://127.0.0.1:1" };
    const error = await endpoint()
      .jwtGrant(dead)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/network error/);
  });

  it("revokes with the given token once, without retries", async () => {
    replies.push((res) => {
      res.writeHead(200);
      res.end();
    });
    await endpoint().revoke(app(), "refresh-token-to-revoke");
    expect(seen[0]?.path).toBe("/restapi/oauth/revoke");
    expect(seen[0]?.form.get("token")).toBe("refresh-token-to-revoke");
    replies.push(status(503));
    await expect(endpoint().revoke(app(), "x-token-123")).rejects.toBeInstanceOf(OperationError);
    expect(seen).toHaveLength(2);
  });
});
