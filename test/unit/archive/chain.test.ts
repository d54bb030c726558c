import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChainReader, canonicalJson, sha256Hex } from "../../../src/archive/chain.js";
import { ChainAudit } from "../../../src/archive/chain-audit.js";
import { CheckpointSigner, CheckpointVerifier } from "../../../src/archive/checkpoint.js";
import { Manifest, type ManifestEntry } from "../../../src/archive/manifest.js";
import { LocalFolder } from "../../../src/destination/local/folder.js";
import { tempDir } from "../../helpers/cli.js";

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("rcr-chain-");
});
afterEach(() => dir.cleanup());

const folder = () => new LocalFolder(dir.path);
const manifestFile = () => join(dir.path, ".rc-recordings", "manifest.jsonl");
const lines = () => readFileSync(manifestFile(), "utf8").trimEnd().split("\n");

function entry(id: string): ManifestEntry {
  return {
    recordingId: id,
    callId: `c${id}`,
    path: `${id}.mp3` as ManifestEntry["path"],
    bytes: 1,
    sha256: "ab",
    contentType: "audio/mpeg",
    startTime: "2026-01-01T00:00:00.000Z",
  };
}

async function write(ids: string[], signer?: CheckpointSigner): Promise<string | undefined> {
  const manifest = await Manifest.open(folder(), { writable: true, signer });
  for (const id of ids) await manifest.append(entry(id));
  await manifest.close();
  return manifest.chainHead;
}

function audit(text: string[], expect: ConstructorParameters<typeof ChainAudit>[0] = {}) {
  const chain = new ChainAudit(expect);
  for (const line of text) chain.read(line);
  return chain.report();
}

describe("canonicalJson", () => {
  it("sorts keys at every depth, leaves out undefined, keeps arrays in order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: "é" }, u: undefined })).toBe(
      '{"a":{"c":"é","d":[2,1]},"b":1}',
    );
  });
});

describe("the manifest's hash chain", () => {
  it("starts with the first record, links each line to the one before, and continues across runs", async () => {
    const first = await write(["1", "2"]);
    const second = await write(["3"]);
    const text = lines();
    expect(JSON.parse(text[0] as string)).toMatchObject({
      record: "chain-start",
      priorLines: 0,
      prev: sha256Hex(""),
    });
    for (let i = 1; i < text.length; i++) {
      expect(JSON.parse(text[i] as string).prev).toBe(sha256Hex(text[i - 1] as string));
    }
    expect(first).toBe(sha256Hex(text[2] as string));
    expect(second).toBe(sha256Hex(text[3] as string));
    const report = audit(text, { chainHead: first });
    expect(report).toMatchObject({ records: 4, head: second, broken: null, headFound: true });
  });

  it("upgrades a manifest written before the chain: the start covers the older lines as one block", async () => {
    const old = [
      '{"recordingId":"a","path":"a.mp3","bytes":1}',
      '{"recordingId":"b","path":"b.mp3","bytes":1}',
    ];
    writeFileSync(join(dir.path, "x"), ""); // DIR exists
    await write([]); // opens and closes without writing: no chain yet
    writeFileSync(manifestFile(), `${old.join("\n")}\n`);
    await write(["c"]);
    const text = lines();
    expect(text.slice(0, 2)).toEqual(old);
    expect(JSON.parse(text[2] as string)).toMatchObject({
      record: "chain-start",
      priorLines: 2,
      prev: sha256Hex(`${old[0]}\n${old[1]}\n`),
    });
    expect(audit(text)).toMatchObject({ broken: null, start: { line: 3, priorLines: 2 }, records: 2 });
    // An older line changed after the upgrade breaks the start's link.
    const edited = [old[0]?.replace('"bytes":1', '"bytes":2') as string, ...text.slice(1)];
    expect(audit(edited).broken).toMatchObject({ line: 3 });
  });

  it("names the first line that does not follow: a changed, removed, inserted or reordered line", async () => {
    await write(["1", "2", "3", "4"]);
    const text = lines(); // start, 1, 2, 3, 4
    const changed = [...text];
    changed[2] = (changed[2] as string).replace('"sha256":"ab"', '"sha256":"cd"');
    expect(audit(changed).broken).toEqual({
      line: 4,
      recordingId: "3",
      after: { line: 3, recordingId: "2" },
      reason: "its link is not the hash of the line before it",
    });
    expect(audit([...text.slice(0, 2), ...text.slice(3)]).broken).toMatchObject({
      line: 3,
      recordingId: "3",
    });
    const forged = canonicalJson({ ...entry("9"), prev: sha256Hex(text[1] as string) });
    expect(audit([...text.slice(0, 2), forged, ...text.slice(2)]).broken).toMatchObject({
      line: 4,
      recordingId: "2",
    });
    expect(audit([text[0], text[1], text[3], text[2], text[4]] as string[]).broken).toMatchObject({
      line: 3,
    });
    expect(audit([...text, '{"recordingId":"5","path":"5.mp3","bytes":1}']).broken).toMatchObject({
      line: 6,
      reason: "it carries no chain link",
    });
    // Cut short: the chain holds, but a head recorded before no longer occurs in it.
    expect(audit(text.slice(0, 3), { chainHead: sha256Hex(text[4] as string) })).toMatchObject({
      broken: null,
      headFound: false,
    });
  });

  it("a follower reads only what the next append needs", () => {
    const reader = new ChainReader(false);
    reader.read('{"recordingId":"a"}');
    expect(reader.state()).toEqual({ count: 0 });
    expect(reader.priorDigest()).toEqual({ prev: sha256Hex('{"recordingId":"a"}\n'), priorLines: 1 });
  });
});

describe("signed checkpoints", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const signer = () =>
    CheckpointSigner.fromPem(privateKey.export({ type: "pkcs8", format: "pem" }) as string, "k");
  const verifier = () =>
    CheckpointVerifier.fromPem(publicKey.export({ type: "spki", format: "pem" }) as string, "p");

  it("each signed close appends a checkpoint the public key alone verifies; a flipped byte fails it", async () => {
    await write(["1"], signer());
    await write(["2"], signer());
    const text = lines();
    expect(text.map((l) => JSON.parse(l).record ?? "recording")).toEqual([
      "chain-start",
      "recording",
      "checkpoint",
      "recording",
      "checkpoint",
    ]);
    expect(JSON.parse(text[2] as string)).toMatchObject({ head: sha256Hex(text[1] as string), count: 2 });
    expect(audit(text, { verifier: verifier() }).checkpoints).toEqual({
      count: 2,
      verified: true,
      problems: [],
    });

    const flipped = [...text];
    const last = flipped[4] as string;
    const at = last.indexOf('"count":') + 8;
    flipped[4] = `${last.slice(0, at)}${Number(last[at]) + 1}${last.slice(at + 1)}`;
    expect(audit(flipped, { verifier: verifier() }).checkpoints.problems).toEqual([
      { line: 5, reason: "its signature does not match its content" },
    ]);
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string;
    expect(
      audit(text, { verifier: CheckpointVerifier.fromPem(other, "o") }).checkpoints.problems[0]?.reason,
    ).toMatch(/signed by another key/);
  });

  it("refuses a key that is not Ed25519 with one line that says how to make one", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    expect(() => CheckpointSigner.fromPem(rsa as string, "key.pem")).toThrow(
      /key.pem: a rsa key.*openssl genpkey -algorithm ed25519/,
    );
    expect(() => CheckpointSigner.fromPem("nonsense", "key.pem")).toThrow(/not a private key in PEM form/);
  });
});
