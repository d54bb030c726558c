import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStoreKey } from "../../../src/auth/store/store-key.js";
import { UsageError } from "../../../src/errors.js";
import { redact } from "../../../src/log/redact.js";
import { tempDir } from "../../helpers/cli.js";

const dir = tempDir("rcr-store-key-");
afterAll(() => dir.cleanup());

describe("the shared store's key", () => {
  it("comes from RC_RECORDINGS_STORE_KEY first, then $CREDENTIALS_DIRECTORY, with the same fingerprint", () => {
    const text = randomBytes(32).toString("base64");
    writeFileSync(join(dir.path, "rc-recordings-store-key"), `${text}\n`);
    const fromEnv = loadStoreKey({ RC_RECORDINGS_STORE_KEY: text });
    const fromFile = loadStoreKey({ CREDENTIALS_DIRECTORY: dir.path });
    expect(fromEnv.key.equals(fromFile.key)).toBe(true);
    expect(fromEnv.id).toBe(fromFile.id);
    expect(fromEnv.id).not.toBe(
      loadStoreKey({ RC_RECORDINGS_STORE_KEY: randomBytes(32).toString("base64") }).id,
    );
    expect(redact(`key ${text}`)).not.toContain(text); // never printed
  });

  it.each([
    ["missing", {}],
    ["empty", { RC_RECORDINGS_STORE_KEY: " " }],
    ["not base64", { RC_RECORDINGS_STORE_KEY: "not a key!" }],
    ["16 bytes", { RC_RECORDINGS_STORE_KEY: randomBytes(16).toString("base64") }],
    ["a credentials folder without the file", { CREDENTIALS_DIRECTORY: join(dir.path, "none") }],
  ])("%s: a usage error naming the variable", (_, env) => {
    let error: unknown;
    try {
      loadStoreKey(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/RC_RECORDINGS_STORE_KEY|32 bytes/);
  });
});
