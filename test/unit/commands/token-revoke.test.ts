import { describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/errors.js";
import { activeRecord, FakeEndpoint, MemoryStore, pair } from "../auth/fakes.js";
import { run } from "./harness.js";

describe("token revoke", () => {
  it("revokes server-side, marks the stored login ended and says so in JSON", async () => {
    const tokens = pair(Date.now());
    const store = new MemoryStore(activeRecord(tokens));
    const endpoint = new FakeEndpoint(Date.now);
    const r = await run(["--json", "token", "revoke"], { store, endpoint });
    expect(r.code).toBe(ExitCode.ok);
    expect(JSON.parse(r.stdout)).toEqual({ profile: "default", revoked: true });
    expect(endpoint.revokes).toHaveLength(1);
    expect(store.record?.login.state).toBe("ended");
  });

  it("with nothing stored: exit 0, revoked false with the reason, no token request", async () => {
    const endpoint = new FakeEndpoint(Date.now);
    const r = await run(["--json", "token", "revoke"], { endpoint });
    expect(r.code).toBe(ExitCode.ok);
    expect(JSON.parse(r.stdout)).toEqual({ profile: "default", revoked: false, reason: "nothing stored" });
    expect(endpoint.revokes).toEqual([]);
  });

  it("a second revoke finds the login already ended", async () => {
    const store = new MemoryStore(activeRecord(pair(Date.now())));
    await run(["token", "revoke"], { store });
    const r = await run(["token", "revoke"], { store });
    expect(r.code).toBe(ExitCode.ok);
    expect(r.stderr).toEqual(['profile "default": the login was already ended']);
  });
});
