import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("a service's secrets and where the login went", () => {
  it("login reads the client secret and JWT from systemd credentials ($CREDENTIALS_DIRECTORY)", async () => {
    e = await startEmulatorEnv({ credentialsInEnv: false });
    const credentials = join(e.dir, "credentials");
    mkdirSync(credentials, { mode: 0o700 });
    writeFileSync(join(credentials, "rc-recordings-client-secret"), `${e.emu.credentials.clientSecret}\n`);
    writeFileSync(join(credentials, "rc-recordings-jwt"), e.emu.credentials.jwt);
    const login = await e.run(
      ["login", "--server", e.emu.server, "--client-id", e.emu.credentials.clientId],
      {
        env: { CREDENTIALS_DIRECTORY: credentials },
      },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(e.emu.stats.jwtLogins).toBe(1);
    // One line says where the pair went and that a scheduled job reaches it.
    expect(login.stderr).toMatch(
      /^token pair kept in the file store: .+; scheduled jobs of this user \(cron, systemd\) reach it$/m,
    );
    for (const secret of [e.emu.credentials.clientSecret, e.emu.credentials.jwt]) {
      expect(login.stderr + login.stdout).not.toContain(secret);
    }
  });

  it("without them, the missing secrets are named with every way to give them (exit 2)", async () => {
    e = await startEmulatorEnv({ credentialsInEnv: false });
    const login = await e.run(["login", "--server", e.emu.server, "--client-id", "x"], {
      env: { CREDENTIALS_DIRECTORY: join(e.dir, "empty") },
    });
    expect(login.code).toBe(2);
    expect(login.stderr).toMatch(/missing client secret/);
  });
});
