import { readdirSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";
import { APP, FakeEndpoint, pair } from "../auth/fakes.js";
import { run } from "./harness.js";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("rcr-login-cmd-");
});
afterEach(() => dir.cleanup());

const ENV = { RC_APP_CLIENT_ID: APP.clientId, RC_APP_CLIENT_SECRET: APP.clientSecret, RC_USER_JWT: APP.jwt };

describe("login", () => {
  it("logs in once, stores the pair, and reports it in JSON without a secret", async () => {
    const endpoint = new FakeEndpoint(Date.now);
    let issued = pair(Date.now());
    endpoint.onJwt = () => {
      issued = pair(Date.now());
      return issued;
    };
    const r = await run(
      ["--json", "--store", "file", "login", "--server", APP.server],
      { endpoint, configDir: dir.path },
      { env: ENV },
    );
    expect(r.code).toBe(ExitCode.ok);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ profile: "default", server: APP.server, store: "file", reused: false });
    expect(readdirSync(dir.path).length).toBeGreaterThan(0); // the real file store, in the config folder
    expect(endpoint.jwtGrants).toBe(1);
    for (const secret of [APP.clientSecret, APP.jwt, issued.accessToken, issued.refreshToken])
      expect(r.stdout + r.stderr.join("\n")).not.toContain(secret);
  });

  it("a second login with the same app and JWT reuses the stored pair: no token request", async () => {
    const endpoint = new FakeEndpoint(Date.now);
    const args = ["--store", "file", "login", "--server", APP.server];
    await run(args, { endpoint, configDir: dir.path }, { env: ENV });
    const again = await run(args, { endpoint, configDir: dir.path }, { env: ENV });
    expect(again.code).toBe(ExitCode.ok);
    expect(endpoint.jwtGrants).toBe(1);
    expect(again.stderr[0]).toMatch(/^already logged in as extension 101/);
  });

  it("without credentials and nobody to ask: exit 2 naming what is missing, no token request", async () => {
    const endpoint = new FakeEndpoint(Date.now);
    const r = await run(["--store", "file", "login", "--server", APP.server], {
      endpoint,
      configDir: dir.path,
    });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toHaveLength(1);
    expect(endpoint.jwtGrants).toBe(0);
  });
});
