import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

// No DBUS_SESSION_BUS_ADDRESS reaches the CLI, so `--store keychain` names a store that cannot be written.
describe("login never leaves a session it cannot store", () => {
  it("an unreachable store is found before any token request: exit 1, no session opened", async () => {
    e = await startEmulatorEnv();
    const result = await e.run(["--store", "keychain", "login"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/keychain is not reachable/);
    expect(e.emu.stats.jwtLogins).toBe(0);
    expect(e.emu.stats.liveSessions).toBe(0);
  });

  it("--force towards an unreachable store keeps the current login instead of revoking it", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const result = await e.run(["--store", "keychain", "login", "--force"]);
    expect(result.code).toBe(1);
    expect(e.emu.stats.revokes).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(1);
    expect(e.emu.stats.liveSessions).toBe(1);
    expect((await e.run(["token", "status", "--verify"])).code).toBe(0);
  });
});
