import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";

// A store file edited by hand or by an attacker is checked like a flag: one clear line (the store is corrupt:
// log in again, exit 4) and nothing sent — not "Invalid time value", not "Invalid URL", and never the token to
// a server the --server rule would refuse.

let e: EmulatorEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Tamper = (record: {
  credentials: Record<string, unknown>;
  login: { tokens: Record<string, unknown> };
}) => void;

const cases: Array<[string, Tamper, RegExp]> = [
  [
    "an accessTokenExpiresAt of 1e300",
    (r) => {
      r.login.tokens.accessTokenExpiresAt = 1e300;
    },
    /tokens\.accessTokenExpiresAt is not a valid time/,
  ],
  [
    "a server of javascript:",
    (r) => {
      r.credentials.server = "javascript:alert(1)";
    },
    /credentials\.server "javascript:alert\(1\)" must be an https:\/\/ URL/,
  ],
  [
    "a plain-http server on a host that is not loopback",
    (r) => {
      r.credentials.server = "http://platform.example.net";
    },
    /credentials\.server "http:\/\/platform\.example\.net" must be an https:\/\/ URL/,
  ],
  [
    "a server that is not a URL",
    (r) => {
      r.credentials.server = "not a url";
    },
    /credentials\.server "not a url" is not a URL/,
  ],
];

describe("a tampered store file", () => {
  for (const [name, tamper, message] of cases) {
    it(`${name}: one line, exit 4, no request`, async () => {
      e = await startEmulatorEnv();
      await e.login();
      const file = join(e.profilesDir, "default.json");
      const record = JSON.parse(readFileSync(file, "utf8"));
      tamper(record);
      writeFileSync(file, JSON.stringify(record), { mode: 0o600 });
      e.emu.control.resetStats();
      for (const args of [
        ["token", "status", "--verify"],
        ["download", "--out", join(e.dir, "out")],
      ]) {
        const result = await e.run(args);
        expect(result.code, result.stderr).toBe(4);
        const lines = result.stderr.trim().split("\n");
        expect(lines).toEqual([expect.stringMatching(/token store .*default\.json is corrupt/)]);
        expect(lines[0]).toMatch(message);
        expect(result.stderr).not.toMatch(/Invalid time value|Invalid URL/);
      }
      const stats = e.emu.stats.snapshot();
      expect(stats.requestsByGroup).toEqual({ auth: 0, light: 0, medium: 0, heavy: 0 });
      expect(stats.refreshes + stats.jwtLogins).toBe(0);
    });
  }
});
