import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KeychainUnavailableError, StoreCorruptError } from "../../../src/auth/errors.js";
import { writePrivateFileAtomic } from "../../../src/auth/store/atomic-file.js";
import { locateStore, storeOf, writeToChosenStore } from "../../../src/auth/store/select.js";
import { tempDir } from "../../helpers/cli.js";
import { activeRecord, MemoryVault, memoryLogger, pair } from "./fakes.js";

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  return { ...real, rename: vi.fn(real.rename) };
});

let dir: { path: string; cleanup: () => void };
let vault: MemoryVault;
beforeEach(() => {
  dir = tempDir("rcr-store-");
  vault = new MemoryVault();
});
afterEach(() => dir.cleanup());

const location = () => ({ dir: dir.path, vault });
const record = () => activeRecord(pair(Date.now()));
const mode = (path: string) => statSync(path).mode & 0o777;

describe("file store", () => {
  it("round-trips a record as 0600 JSON in a 0700 directory", async () => {
    const store = storeOf("file", "default", location());
    const written = record();
    await store.write(written);
    expect(await store.read()).toEqual(written);
    expect(mode(store.path)).toBe(0o600);
    expect(mode(join(dir.path, "profiles"))).toBe(0o700);
  });

  it.each([
    ["truncated", (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ["empty", () => ""],
    ["wrong shape", () => JSON.stringify({ version: 1, credentials: {} })],
  ])("reports a %s file as a corrupt store naming the file (exit 4)", async (_name, damage) => {
    const store = storeOf("file", "default", location());
    await store.write(record());
    writeFileSync(store.path, damage(readFileSync(store.path, "utf8")));
    const error = await store.read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect((error as StoreCorruptError).exitCode).toBe(4);
    expect((error as Error).message).toContain(store.path);
  });
});

describe("keychain store (key in the keychain, record sealed in a file)", () => {
  it("round-trips, keeps one key per profile, and leaves no secret readable in the file", async () => {
    const store = storeOf("keychain", "default", location());
    const written = record();
    await store.write(written);
    await store.write(written);
    expect(vault.keys.size).toBe(1);
    const [account] = vault.keys.keys();
    expect(account).toMatch(/^default:/);
    expect(vault.keys.get(account as string)).toHaveLength(32);
    const text = readFileSync(store.path, "utf8");
    for (const secret of [written.credentials.jwt, written.credentials.clientSecret])
      expect(text).not.toContain(secret);
    if (written.login.state === "active") expect(text).not.toContain(written.login.tokens.refreshToken);
    expect(mode(store.path)).toBe(0o600);
    // A fresh store object (a new process) reads it back through the keychain.
    expect(await storeOf("keychain", "default", location()).read()).toEqual(written);
  });

  it("uses a fresh IV for every write", async () => {
    const store = storeOf("keychain", "default", location());
    await store.write(record());
    const first = JSON.parse(readFileSync(store.path, "utf8"));
    await store.write(record());
    const second = JSON.parse(readFileSync(store.path, "utf8"));
    expect(second.iv).not.toBe(first.iv);
    expect(second.keyId).toBe(first.keyId);
  });

  it("detects tampering with the ciphertext", async () => {
    const store = storeOf("keychain", "default", location());
    await store.write(record());
    const envelope = JSON.parse(readFileSync(store.path, "utf8"));
    const data = Buffer.from(envelope.data, "base64");
    data[5] = (data[5] as number) ^ 0x01;
    writeFileSync(store.path, JSON.stringify({ ...envelope, data: data.toString("base64") }));
    await expect(storeOf("keychain", "default", location()).read()).rejects.toBeInstanceOf(StoreCorruptError);
  });

  it("binds the file to its profile name: a copy under another profile does not open", async () => {
    await storeOf("keychain", "alice", location()).write(record());
    const bob = storeOf("keychain", "bob", location());
    const alice = storeOf("keychain", "alice", location());
    // give bob alice's key under bob's account so only the associated data differs
    const envelope = JSON.parse(readFileSync(alice.path, "utf8"));
    vault.keys.set(`bob:${envelope.keyId}`, vault.keys.get(`alice:${envelope.keyId}`) as Buffer);
    writeFileSync(bob.path, readFileSync(alice.path));
    await expect(bob.read()).rejects.toBeInstanceOf(StoreCorruptError);
  });

  it("reports a truncated envelope and a missing key as corrupt, an unreachable keychain as an error", async () => {
    const store = storeOf("keychain", "default", location());
    await store.write(record());
    const text = readFileSync(store.path, "utf8");

    writeFileSync(store.path, text.slice(0, 40));
    await expect(storeOf("keychain", "default", location()).read()).rejects.toBeInstanceOf(StoreCorruptError);

    writeFileSync(store.path, text);
    vault.unavailable = true;
    const error = await storeOf("keychain", "default", location())
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeychainUnavailableError);
    expect((error as KeychainUnavailableError).exitCode).toBe(1);

    vault.unavailable = false;
    vault.keys.clear();
    await expect(storeOf("keychain", "default", location()).read()).rejects.toThrow(/key is missing/);
  });
});

describe("choosing and locating the backend", () => {
  it("falls back to the file store with ONE warning naming the file and --store file", async () => {
    vault.unavailable = true;
    const { log, lines } = memoryLogger("normal");
    const store = await writeToChosenStore(record(), "default", undefined, location(), log);
    expect(store.kind).toBe("file");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(store.path);
    expect(lines[0]).toContain("--store file");
    expect((await locateStore("default", location()))?.kind).toBe("file");
  });

  it("fails instead of falling back when the keychain was asked for explicitly", async () => {
    vault.unavailable = true;
    const { log } = memoryLogger();
    await expect(writeToChosenStore(record(), "default", "keychain", location(), log)).rejects.toBeInstanceOf(
      KeychainUnavailableError,
    );
  });

  it("records the backend: a profile held by the keychain is located there and moving it removes the old copy", async () => {
    const { log } = memoryLogger();
    await writeToChosenStore(record(), "default", undefined, location(), log);
    expect((await locateStore("default", location()))?.kind).toBe("keychain");
    await writeToChosenStore(record(), "default", "file", location(), log);
    expect((await locateStore("default", location()))?.kind).toBe("file");
    expect(readdirSync(join(dir.path, "profiles"))).toEqual(["default.json"]);
    expect(vault.keys.size).toBe(0);
  });

  it("rejects profile names that could escape the profiles folder", () => {
    expect(() => storeOf("file", "../evil", location())).toThrow(/invalid profile name/);
  });
});

describe("atomic write", () => {
  it("replaces the whole file and leaves no temp files behind", async () => {
    const path = join(dir.path, "sub", "x.json");
    await writePrivateFileAtomic(path, "first");
    await writePrivateFileAtomic(path, "second");
    expect(readFileSync(path, "utf8")).toBe("second");
    expect(readdirSync(join(dir.path, "sub"))).toEqual(["x.json"]);
  });

  it("keeps the old content intact when the write fails before the rename", async () => {
    const path = join(dir.path, "x.json");
    await writePrivateFileAtomic(path, "old content");
    vi.mocked(fsp.rename).mockRejectedValueOnce(Object.assign(new Error("EIO"), { code: "EIO" }));
    await expect(writePrivateFileAtomic(path, "new content")).rejects.toThrow("EIO");
    expect(readFileSync(path, "utf8")).toBe("old content");
    expect(readdirSync(dir.path)).toEqual(["x.json"]);
  });
});
