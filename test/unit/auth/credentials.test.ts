import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isLoopback } from "../../../src/api/hosts.js";
import { DEFAULT_SERVER, normalizeServer, resolveCredentials } from "../../../src/auth/credentials.js";
import { UsageError } from "../../../src/errors.js";
import { redact } from "../../../src/log/redact.js";
import { tempDir } from "../../helpers/cli.js";
import { APP } from "./fakes.js";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("rcr-cred-");
});
afterEach(() => dir.cleanup());

const noStdin = async () => {
  throw new Error("stdin must not be read");
};
const file = (name: string, text: string) => {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
};

describe("resolveCredentials", () => {
  it("takes flags over environment over stored values, per field", async () => {
    const creds = await resolveCredentials({
      flags: { clientId: "flag-client", jwtFile: file("jwt", "flag-jwt-value-123\n") },
      env: {
        RC_APP_CLIENT_ID: "env-client",
        RC_USER_JWT: "env-jwt-value-123",
        RC_APP_CLIENT_SECRET: "env-secret-123",
      },
      stored: { ...APP, server: "https://stored.example.test" },
      readStdin: noStdin,
    });
    expect(creds).toEqual({
      server: "https://stored.example.test",
      clientId: "flag-client",
      clientSecret: "env-secret-123",
      jwt: "flag-jwt-value-123",
    });
  });

  it.each([
    [
      {
        RC_CLIENT_ID: "a",
        RC_CLIENT_SECRET: "older-secret-1",
        RC_JWT: "older-jwt-123",
        RC_SERVER_URL: "https://x.test/",
      },
    ],
    [
      {
        RINGCENTRAL_CLIENT_ID: "a",
        RINGCENTRAL_CLIENT_SECRET: "older-secret-1",
        RINGCENTRAL_JWT_TOKEN: "older-jwt-123",
        RINGCENTRAL_SERVER_URL: "https://x.test",
      },
    ],
  ])("accepts the older environment names %#", async (env) => {
    const creds = await resolveCredentials({ flags: {}, env, readStdin: noStdin });
    expect(creds).toEqual({
      server: "https://x.test",
      clientId: "a",
      clientSecret: "older-secret-1",
      jwt: "older-jwt-123",
    });
  });

  it("prefers the current environment names over the older ones", async () => {
    const creds = await resolveCredentials({
      flags: {},
      env: {
        RC_APP_CLIENT_ID: "new",
        RC_CLIENT_ID: "old",
        RC_APP_CLIENT_SECRET: "s-12345678",
        RC_USER_JWT: "j-12345678",
      },
      readStdin: noStdin,
    });
    expect(creds.clientId).toBe("new");
    expect(creds.server).toBe(DEFAULT_SERVER);
  });

  it("without a terminal, names every missing value and how to supply it (exit 2)", async () => {
    const error = await resolveCredentials({
      flags: {},
      env: { RC_APP_CLIENT_ID: "a" },
      readStdin: noStdin,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(
      /client secret \(--client-secret-file or RC_APP_CLIENT_SECRET\)/,
    );
    expect((error as Error).message).toMatch(/JWT credential \(--jwt-file or RC_USER_JWT\)/);
    expect((error as Error).message).not.toMatch(/client id/);
  });

  it("asks a person at the terminal, hiding secrets, and registers them for redaction", async () => {
    const asked: string[] = [];
    const creds = await resolveCredentials({
      flags: {},
      env: {},
      readStdin: noStdin,
      prompter: {
        text: async (m) => {
          asked.push(`text ${m}`);
          return "typed-client";
        },
        secret: async (m) => {
          asked.push(`secret ${m}`);
          return m.startsWith("client secret") ? "typed-secret-value" : "typed-jwt-value-xyz";
        },
      },
    });
    expect(asked).toEqual(["text client id: ", "secret client secret: ", "secret JWT credential: "]);
    expect(creds.clientSecret).toBe("typed-secret-value");
    expect(redact("x typed-secret-value typed-jwt-value-xyz")).toBe("x *** ***");
  });

  it("reads one secret from stdin with '-' and refuses two", async () => {
    const creds = await resolveCredentials({
      flags: { jwtFile: "-" },
      env: { RC_APP_CLIENT_ID: "a", RC_APP_CLIENT_SECRET: "secret-from-env" },
      readStdin: async () => "jwt-from-stdin-123\n",
    });
    expect(creds.jwt).toBe("jwt-from-stdin-123");
    await expect(
      resolveCredentials({ flags: { jwtFile: "-", clientSecretFile: "-" }, env: {}, readStdin: noStdin }),
    ).rejects.toBeInstanceOf(UsageError);
  });

  it("reports an unreadable or empty secret file as a usage error", async () => {
    await expect(
      resolveCredentials({ flags: { jwtFile: join(dir.path, "nope") }, env: {}, readStdin: noStdin }),
    ).rejects.toThrow(/cannot read --jwt-file/);
    await expect(
      resolveCredentials({ flags: { jwtFile: file("empty", "\n") }, env: {}, readStdin: noStdin }),
    ).rejects.toThrow(/is empty/);
  });
});

describe("normalizeServer", () => {
  it("keeps the origin, allows http only for loopback", () => {
    expect(normalizeServer("https://platform.ringcentral.com/")).toBe("https://platform.ringcentral.com");
    expect(normalizeServer("http://127.0.0.1:4000")).toBe("http://127.0.0.1:4000");
    expect(() => normalizeServer("http://platform.example.com")).toThrow(UsageError);
    expect(() => normalizeServer("not a url")).toThrow(UsageError);
  });

  it("accepts plain http exactly where the bearer-token rule treats the host as loopback", () => {
    for (const host of ["localhost", "127.0.0.1", "[::1]", "127.0.0.2", "0.0.0.0", "example.com"]) {
      const url = `http://${host}:4000`;
      const accepted = (() => {
        try {
          normalizeServer(url);
          return true;
        } catch {
          return false;
        }
      })();
      expect(accepted, url).toBe(isLoopback(new URL(url)));
    }
  });
});
