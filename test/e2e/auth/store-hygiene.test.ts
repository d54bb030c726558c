import { chmodSync, chownSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const isRoot = process.getuid?.() === 0;
const posix = process.platform !== "win32";

describe("store hygiene", () => {
  it("a profile name that would share its file with another profile's store is refused (exit 2)", async () => {
    e = await startEmulatorEnv();
    await e.run(["--store", "file", "login"]); // profile "default"
    const result = await e.run(["--profile", "default.sealed", "--store", "file", "login"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/would share its file with profile "default"/);
    expect(e.emu.stats.jwtLogins).toBe(1);
  });

  it.runIf(posix)("a store file or folder open to others is reported once and tightened", async () => {
    e = await startEmulatorEnv();
    await e.login();
    const file = join(e.profilesDir, "default.json");
    chmodSync(file, 0o644);
    chmodSync(e.profilesDir, 0o777);
    const result = await e.run(["token", "status"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/profiles was open to other users \(mode 0777\); tightened to 0700/);
    expect(result.stderr).toMatch(/default\.json was open to other users \(mode 0644\); tightened to 0600/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(e.profilesDir).mode & 0o777).toBe(0o700);
    expect((await e.run(["token", "status"])).stderr).not.toMatch(/warning/);
  });

  // Giving a file to another user needs root; CI runs as root.
  it.runIf(posix && (isRoot || process.env.CI === "true"))(
    "a store file owned by another user is reported, not silently used",
    async () => {
      e = await startEmulatorEnv();
      await e.login();
      const file = join(e.profilesDir, "default.json");
      chownSync(file, 4242, 4242);
      const result = await e.run(["token", "status"]);
      expect(result.stderr).toMatch(/default\.json belongs to uid 4242, not to this user/);
    },
  );
});
