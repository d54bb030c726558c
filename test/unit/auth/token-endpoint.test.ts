import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenEndpointRateLimitedError } from "../../../src/auth/errors.js";
import type { ProfileLock } from "../../../src/auth/refresh-lock.js";
import { requestedAccessTtl, SdkTokenEndpoint } from "../../../src/auth/token-endpoint.js";
import { TokenRequestRejected } from "../../../src/auth/token-failure.js";
import { withTokenLock } from "../../../src/auth/token-lock.js";
import { OperationError } from "../../../src/errors.js";
import type { TokenBudget } from "../../../src/retry.js";
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

const FAST: TokenBudget = {
  attempts: 3,
  baseDelayMs: 10,
  maxDelayMs: 10,
  jitter: "none",
  timeoutMs: 2_000,
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

  it("hands a 429 to the caller with its Retry-After instead of waiting (the lock is released for the wait)", async () => {
    replies.push(status(429, { errors: [{ errorCode: "CMN-301" }] }, { "retry-after": "7" }));
    const error = await endpoint()
      .jwtGrant(app())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenEndpointRateLimitedError);
    expect((error as TokenEndpointRateLimitedError).retryAfterMs).toBe(7000);
    expect(seen).toHaveLength(1);
  });

  it("withTokenLock waits a token 429 out with the lock released, then runs the work again", async () => {
    const events: string[] = [];
    const lock: ProfileLock = {
      withLock: async (work) => {
        events.push("lock");
        try {
          return await work({ assertHeld: () => undefined });
        } finally {
          events.push("unlock");
        }
      },
    };
    const logged = memoryLogger();
    let calls = 0;
    const result = await withTokenLock(
      lock,
      async () => {
        calls++;
        if (calls === 1) throw new TokenEndpointRateLimitedError("log in", 50);
        return "done";
      },
      logged.log,
    );
    expect(result).toBe("done");
    expect(events).toEqual(["lock", "unlock", "lock", "unlock"]);
    expect(logged.lines.join("\n")).toContain("without holding the profile lock");
  });

  it("never follows a redirect: a 307 is an error naming the target, nothing is sent there", async () => {
    let foreignHits = 0;
    const foreign = createServer((_req, res) => {
      foreignHits++;
      res.end("{}");
    });
    await new Promise<void>((r) => foreign.listen(0, "127.0.0.1", r));
    const target = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/restapi/oauth/token`;
    replies.push(status(307, {}, { location: target }));
    const error = await endpoint()
      .jwtGrant(app())
      .catch((e: unknown) => e);
    await new Promise((r) => foreign.close(r));
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toContain(`redirecting to 127.0.0.1:${new URL(target).port}`);
    expect(foreignHits).toBe(0);
    expect(seen).toHaveLength(1);
  });

  it("gives a silent endpoint up after its timeout, within the retry budget", async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const dead = { ...APP, server: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` };
    const started = Date.now();
    const error = await new SdkTokenEndpoint(memoryLogger().log, { ...FAST, timeoutMs: 200 })
      .jwtGrant(dead)
      .catch((e: unknown) => e);
    silent.closeAllConnections();
    await new Promise((r) => silent.close(r));
    expect(error).toBeInstanceOf(OperationError);
    expect((error as Error).message).toMatch(/no answer within/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("routes the SDK's sandbox deprecation console.warn to a debug line (stderr stays one format)", async () => {
    const warn = vi.spyOn(console, "warn");
    const logged = memoryLogger();
    const sandbox = { ...APP, server: "https://platform.devtest.ringcentral.com" };
    await new SdkTokenEndpoint(logged.log, { ...FAST, attempts: 1, timeoutMs: 300 })
      .jwtGrant(sandbox)
      .catch(() => undefined); // no network here: only the construction matters
    expect(warn).not.toHaveBeenCalled();
    expect(logged.lines.some((line) => line.includes("Sandbox support is deprecated"))).toBe(true);
    warn.mockRestore();
  });

  it("asks a refresh for an access lifetime within 600-3600 s whatever was granted", () => {
    expect(requestedAccessTtl(1800)).toBe(1800);
    expect(requestedAccessTtl(120)).toBe(600);
    expect(requestedAccessTtl(-1)).toBe(3600);
    expect(requestedAccessTtl(86_400)).toBe(3600);
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
