import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createApiClient, JSON_IDLE_TIMEOUT_MS } from "../../../src/api/client.js";
import { ApiError, ForeignHostError, NetworkError, RateLimitedError } from "../../../src/api/errors.js";
import { isTokenHost } from "../../../src/api/hosts.js";
import { RateLimiter } from "../../../src/api/rate-limiter.js";
import { createResponse } from "../../../src/api/response.js";
import type { Transport } from "../../../src/api/transport.js";
import type { AccessTokenProvider } from "../../../src/api/types.js";
import { Logger } from "../../../src/log/logger.js";

interface Seen {
  path: string;
  authorization: string | undefined;
}

interface TestServer {
  origin: string;
  seen: Seen[];
  server: Server;
}

const servers: Server[] = [];

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = "127.0.0.1",
): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ path: req.url ?? "", authorization: req.headers.authorization });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://${host}:${port}`, seen, server };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A token provider whose token changes when recovered, like the auth session. */
function fakeTokens(server: string) {
  const state = { token: "token-1", recovered: [] as string[] };
  const provider: AccessTokenProvider = {
    server,
    getAccessToken: async () => state.token,
    recover: async (rejected) => {
      state.recovered.push(rejected);
      state.token = `token-${state.recovered.length + 1}`;
    },
  };
  return { provider, state };
}

const quiet = new Logger("quiet", { write: () => true });

/** A client over the fake token provider; `transport` replaces the network (a script of responses). */
function client(server: string, transport?: Transport) {
  const tokens = fakeTokens(server);
  const api = createApiClient({
    tokens: tokens.provider,
    limiter: new RateLimiter(),
    log: quiet,
    ...(transport ? { transport } : {}),
  });
  return { api, tokens: tokens.state };
}

describe("which hosts get the bearer token", () => {
  const production = new URL("https://platform.ringcentral.com");
  const emulator = new URL("http://127.0.0.1:4000");
  it.each([
    [production, "https://platform.ringcentral.com/restapi/v1.0/account/~", true],
    [production, "https://media.ringcentral.com:443/restapi/v1.0/account/1/recording/2/content", true],
    [production, "http://media.ringcentral.com/restapi/v1.0/x", false], // clear text
    [production, "https://evilringcentral.com/x", false],
    [production, "https://ringcentral.com.evil.example/x", false],
    [production, "https://user:pw@media.ringcentral.com/x", false],
    [production, "http://127.0.0.1:4000/x", false], // loopback only when the server is
    [production, "ftp://media.ringcentral.com/x", false],
    [emulator, "http://127.0.0.1:4001/media", true], // the emulator's media origin: another port
    [emulator, "http://localhost:4001/media", true],
    [emulator, "http://[::1]:4001/media", true],
    [emulator, "http://127.0.0.2:4001/media", false], // another listener, another host
    [emulator, "https://example.com/x", false],
    [emulator, "https://media.ringcentral.com/x", true],
    [production, "https://media.ringcentral.biz:443/restapi/v1.0/account/1/recording/2/content", true],
    [production, "https://platform.ringcentral.biz/x", true],
    [production, "https://ringcentral.biz.evil.example/x", false],
    [production, "http://media.ringcentral.biz/x", false],
  ])("server %s, target %s → %s", (server, target, allowed) => {
    expect(isTokenHost(new URL(target), server)).toBe(allowed);
  });
});

describe("ApiClient", () => {
  it("resolves paths against the server and sends the bearer token", async () => {
    const api = await serve((_req, res) => json(res, 200, { ok: true }));
    const { api: client_ } = client(api.origin);
    await expect(client_.getJson("/restapi/v1.0/account/~")).resolves.toEqual({ ok: true });
    expect(api.seen).toEqual([{ path: "/restapi/v1.0/account/~", authorization: "Bearer token-1" }]);
  });

  it("refuses a foreign host without sending anything, even another loopback address", async () => {
    const api = await serve((_req, res) => json(res, 200, {}));
    const foreign = await serve((_req, res) => json(res, 200, {}), "127.0.0.2");
    const { api: client_ } = client(api.origin);
    await expect(client_.get(`${foreign.origin}/restapi/v1.0/account/1/recording/2/content`)).rejects.toThrow(
      ForeignHostError,
    );
    expect(foreign.seen).toEqual([]);
  });

  it("follows redirects to allowed hosts and refuses one to a foreign host before sending the token", async () => {
    const foreign = await serve((_req, res) => json(res, 200, {}), "127.0.0.2");
    const media = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "audio/mpeg" });
      res.end("abc");
    }, "localhost");
    const api = await serve((req, res) => {
      const to = req.url?.includes("good") ? media.origin : foreign.origin;
      res.writeHead(302, { location: `${to}/restapi/v1.0/account/1/recording/2/content` }).end();
    });
    const { api: client_ } = client(api.origin);
    const good = await client_.get("/good");
    expect(await good.text()).toBe("abc");
    expect(media.seen).toEqual([expect.objectContaining({ authorization: "Bearer token-1" })]);
    await expect(client_.get("/bad")).rejects.toThrow(ForeignHostError);
    expect(foreign.seen).toEqual([]);
  });

  it("follows a redirect to another HTTPS host without Authorization and without access_token, never re-adding them", async () => {
    const sent: { url: string; authorization: string | undefined }[] = [];
    const transport: Transport = async (url, { headers }) => {
      sent.push({ url: url.href, authorization: headers.Authorization });
      const hop = (location: string) => createResponse({ status: 307, url: url.href, headers: { location } });
      if (url.hostname === "media.ringcentral.biz" && url.pathname.endsWith("/content"))
        return hop("https://cdn.example.net/x?access_token=leak&sig=1");
      if (url.hostname === "cdn.example.net" && url.pathname === "/x")
        return hop("https://media.ringcentral.biz/back");
      return createResponse({
        status: 200,
        url: url.href,
        headers: { "content-type": "audio/mpeg" },
        body: "ok",
      });
    };
    const { api } = client("https://platform.ringcentral.biz", transport);
    const response = await api.get(
      "https://media.ringcentral.biz/restapi/v1.0/account/1/recording/2/content",
    );
    expect(await response.text()).toBe("ok");
    expect(sent).toEqual([
      {
        url: "https://media.ringcentral.biz/restapi/v1.0/account/1/recording/2/content",
        authorization: "Bearer token-1",
      },
      { url: "https://cdn.example.net/x?sig=1", authorization: undefined },
      { url: "https://media.ringcentral.biz/back", authorization: undefined },
    ]);
  });

  it("refuses a redirect to plain HTTP on a foreign host, and more than 5 hops", async () => {
    const transport: Transport = async (url) => {
      const location =
        url.pathname === "/plain" ? "http://cdn.example.net/x" : `${url.origin}/loop${url.pathname}`;
      return createResponse({ status: 302, url: url.href, headers: { location } });
    };
    const { api } = client("https://platform.ringcentral.com", transport);
    await expect(api.get("/plain")).rejects.toThrow(/redirect to plain HTTP refused/);
    await expect(api.get("/hops")).rejects.toThrow(/too many redirects/);
  });

  it("retries a CMN-304 (duplicate concurrent request) after its Retry-After, without a group penalty", async () => {
    let calls = 0;
    const api = await serve((_req, res) => {
      calls++;
      if (calls === 1) json(res, 429, { errors: [{ errorCode: "CMN-304" }] }, { "retry-after": "0" });
      else json(res, 200, { ok: calls });
    });
    const { api: client_ } = client(api.origin);
    await expect(client_.getJson("/restapi/v1.0/account/~/call-log")).resolves.toEqual({ ok: 2 });
  });

  it("bounds JSON requests (call log, extension info) by a 20 s idle timeout; media keeps the transport's", async () => {
    const seen: (number | undefined)[] = [];
    const transport: Transport = async (url, { idleTimeoutMs }) => {
      seen.push(idleTimeoutMs);
      return createResponse({
        status: 200,
        url: url.href,
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    };
    const { api } = client("https://platform.ringcentral.com", transport);
    await api.getJson("/restapi/v1.0/account/~/extension/~");
    await api.getJsonWith("/restapi/v1.0/account/~/call-log", undefined, (r) => r.text());
    (await api.get("https://media.ringcentral.com/restapi/v1.0/account/1/recording/2/content")).discard();
    expect(seen).toEqual([JSON_IDLE_TIMEOUT_MS, JSON_IDLE_TIMEOUT_MS, undefined]);
  });

  it("gives a JSON request that stays silent up after its idle timeout (a retryable NetworkError)", async () => {
    const api = await serve(() => {}); // accepts, never answers
    const { api: client_ } = client(api.origin);
    const error = await client_
      .getJson("/restapi/v1.0/account/~/call-log", { idleTimeoutMs: 200 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/no data for/);
    api.server.closeAllConnections();
  });

  it("on 401 asks the auth session to recover and retries with the new token", async () => {
    const api = await serve((req, res) => {
      if (req.headers.authorization === "Bearer token-1") {
        json(res, 401, {
          errorCode: "TokenInvalid",
          errors: [{ errorCode: "OAU-213", message: "Token not found" }],
        });
      } else json(res, 200, { records: [] });
    });
    const { api: client_, tokens } = client(api.origin);
    await expect(client_.getJson("/restapi/v1.0/account/~/call-log")).resolves.toEqual({ records: [] });
    expect(tokens.recovered).toEqual(["token-1"]);
    expect(api.seen.map((s) => s.authorization)).toEqual(["Bearer token-1", "Bearer token-2"]);
  });

  it("gives up after bounded 401 retries", async () => {
    const api = await serve((_req, res) =>
      json(res, 401, { errors: [{ errorCode: "OAU-213", message: "gone" }] }),
    );
    const { api: client_, tokens } = client(api.origin);
    const error = await client_.get("/restapi/v1.0/account/~").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, errorCode: "OAU-213" });
    expect(tokens.recovered).toHaveLength(3);
    expect(api.seen).toHaveLength(4);
  });

  it("on 429 waits Retry-After for the whole group, then retries", async () => {
    let calls = 0;
    const api = await serve((_req, res) => {
      calls++;
      if (calls === 1) json(res, 429, { errors: [{ errorCode: "CMN-301" }] }, { "retry-after": "1" });
      else json(res, 200, { ok: calls });
    });
    const { api: client_ } = client(api.origin);
    const started = Date.now();
    await expect(client_.getJson("/restapi/v1.0/account/~/call-log")).resolves.toEqual({ ok: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
  });

  it("throws RateLimitedError when 429s continue past the retry bound", async () => {
    const api = await serve((_req, res) =>
      json(res, 429, { errors: [{ errorCode: "CMN-301" }] }, { "retry-after": "0" }),
    );
    const tokens = fakeTokens(api.origin);
    const api_ = createApiClient({
      tokens: tokens.provider,
      limiter: new RateLimiter(),
      log: quiet,
      maxRateLimitRetries: 2,
    });
    await expect(api_.get("/restapi/v1.0/account/~/call-log")).rejects.toThrow(RateLimitedError);
    expect(api.seen).toHaveLength(3);
  });

  it("getJson turns a non-2xx answer into ApiError with the platform's error code", async () => {
    const api = await serve((_req, res) =>
      json(res, 403, {
        errorCode: "InsufficientPermissions",
        errors: [
          {
            errorCode: "CMN-408",
            message: "In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission",
          },
        ],
      }),
    );
    const { api: client_ } = client(api.origin);
    const error = await client_
      .getJson("/restapi/v1.0/account/~/call-log?dateFrom=x")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, errorCode: "CMN-408" });
    expect((error as Error).message).toContain("/restapi/v1.0/account/~/call-log");
    expect((error as Error).message).not.toContain("dateFrom");
  });

  it("getJsonWith hands a 2xx body to the reader and types what goes wrong while reading", async () => {
    const api = await serve((req, res) => {
      if (req.url === "/cut") {
        res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
        res.write('{"records":[');
        setTimeout(() => res.destroy(), 20); // connection lost mid-body
      } else json(res, 200, { ok: true });
    });
    const { api: client_ } = client(api.origin);
    await expect(client_.getJsonWith("/ok", undefined, (r) => r.text())).resolves.toBe('{"ok":true}');
    await expect(
      client_.getJsonWith("/ok", undefined, async () => {
        throw new SyntaxError("bad");
      }),
    ).rejects.toMatchObject({ status: 200, message: expect.stringContaining("not JSON") });
    await expect(client_.getJsonWith("/cut", undefined, (r) => r.text())).rejects.toBeInstanceOf(
      NetworkError,
    );
  });

  it("get hands other statuses (404, 5xx) to the caller untouched", async () => {
    const api = await serve((_req, res) => json(res, 404, { errors: [{ errorCode: "CMN-102" }] }));
    const { api: client_ } = client(api.origin);
    expect((await client_.get("/restapi/v1.0/account/~/recording/1/content")).status).toBe(404);
  });

  it("reports a connection failure as a retryable NetworkError", async () => {
    const api = await serve(() => {});
    const { origin } = api;
    await new Promise((resolve) => api.server.close(resolve));
    const { api: client_ } = client(origin);
    const error = await client_.get("/restapi/v1.0/account/~").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).message).toContain("ECONNREFUSED");
  });

  it("lets an abort through as the caller's reason, not as a network error", async () => {
    const api = await serve(() => {}); // never answers
    const { api: client_ } = client(api.origin);
    const controller = new AbortController();
    const pending = client_.get("/restapi/v1.0/account/~", { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user stop")), 50);
    await expect(pending).rejects.toThrow("user stop");
    api.server.closeAllConnections();
  });
});
