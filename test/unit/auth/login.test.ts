import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type LoginRequest, login } from "../../../src/auth/login.js";
import type { ProfileRecord } from "../../../src/auth/profile.js";
import type { AuthServices } from "../../../src/auth/services.js";
import type { ProfileStore } from "../../../src/auth/store/types.js";
import { OperationError } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";
import {
  APP,
  activeRecord,
  FakeEndpoint,
  MemoryLock,
  MemoryStore,
  MemoryVault,
  memoryLogger,
  pair,
} from "./fakes.js";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("rcr-login-");
});
afterEach(() => dir.cleanup());

const ENV = { RC_APP_CLIENT_ID: APP.clientId, RC_APP_CLIENT_SECRET: APP.clientSecret, RC_USER_JWT: APP.jwt };

function setup(options: { stored?: ProfileStore; configDir?: string } = {}) {
  const endpoint = new FakeEndpoint(Date.now);
  const { log, lines } = memoryLogger();
  const services: AuthServices = {
    profile: "default",
    requestedStore: "file",
    location: { dir: options.configDir ?? dir.path, vault: new MemoryVault() },
    lock: new MemoryLock(),
    endpoint,
    locate: async () => options.stored,
  };
  const run = (request: Partial<LoginRequest> = {}, env: NodeJS.ProcessEnv = {}) =>
    login(
      services,
      {
        force: false,
        sources: { flags: { server: APP.server }, env: { ...ENV, ...env }, readStdin: async () => "" },
        ...request,
      },
      log,
    );
  return { endpoint, lines, run };
}

const stored = (record: ProfileRecord) => new MemoryStore(record);

describe("login", () => {
  it("makes no token request when the config folder cannot be written", async () => {
    const blocked = join(dir.path, "not-a-folder");
    writeFileSync(blocked, "");
    const { endpoint, run } = setup({ configDir: blocked });
    await expect(run()).rejects.toThrow(/cannot store the login/);
    expect(endpoint.jwtGrants).toBe(0);
  });

  it("with --force and an unwritable store, neither revokes the old session nor opens a new one", async () => {
    const store = stored(activeRecord(pair(Date.now())));
    store.unwritable = true;
    const { endpoint, run } = setup({ stored: store });
    await expect(run({ force: true })).rejects.toBeInstanceOf(OperationError);
    expect(endpoint.revokes).toEqual([]);
    expect(endpoint.jwtGrants).toBe(0);
    expect(store.record?.login.state).toBe("active");
  });

  it("revokes the new session again when storing it fails after the grant", async () => {
    const store = stored({
      ...activeRecord(pair(Date.now())),
      login: { state: "ended", reason: "revoked", endedAt: 1 },
    });
    store.failWrites = true; // the folder is fine, the write itself fails (disk full)
    const granted = pair(Date.now());
    const { endpoint, run } = setup({ stored: store });
    endpoint.onJwt = () => granted;
    await expect(run()).rejects.toThrow(/disk full; the new session was revoked again/);
    expect(endpoint.jwtGrants).toBe(1);
    expect(endpoint.revokes).toEqual([granted.refreshToken]);
  });

  it("says so when the new session could not be revoked either", async () => {
    const store = stored({
      ...activeRecord(pair(Date.now())),
      login: { state: "ended", reason: "revoked", endedAt: 1 },
    });
    store.failWrites = true;
    const { endpoint, run } = setup({ stored: store });
    endpoint.onRevoke = () => {
      throw new OperationError("network error: ECONNRESET");
    };
    await expect(run()).rejects.toThrow(/could not be revoked either/);
  });

  it("keeps the stored pair for the same server, app and JWT without a token request", async () => {
    const tokens = pair(Date.now());
    const { endpoint, run } = setup({ stored: stored(activeRecord(tokens)) });
    const outcome = await run();
    expect(outcome).toMatchObject({ reused: true, tokens });
    expect(endpoint.jwtGrants + endpoint.revokes.length).toBe(0);
  });

  it("treats a different JWT as another user: ends the stored login, logs in anew, and says why", async () => {
    const tokens = pair(Date.now());
    const store = stored(activeRecord(tokens));
    const { endpoint, lines, run } = setup({ stored: store });
    const outcome = await run({}, { RC_USER_JWT: "another-users-jwt-abcdef" });
    expect(outcome.reused).toBe(false);
    expect(endpoint.revokes).toEqual([tokens.refreshToken]);
    expect(endpoint.jwtGrants).toBe(1);
    expect(lines.join("\n")).toMatch(/logged in with another JWT \(another user\); ending that login first/);
  });

  it("names what differs without printing any value", async () => {
    const { lines, run } = setup({ stored: stored(activeRecord(pair(Date.now()))) });
    await run({}, { RC_APP_CLIENT_ID: "another-client-id" });
    const text = lines.join("\n");
    expect(text).toMatch(/another app \(client id\); ending that login first/);
    expect(text).not.toContain("another-client-id");
  });
});
