import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { UsageError } from "../errors.js";
import { canonicalJson, type Unlinked } from "./chain.js";

/**
 * Signed checkpoints: at the end of a run signed with `--signing-key`, the manifest gets a record that states the
 * chain's head and length at that moment, signed with an Ed25519 key. Anyone with the public key alone can then
 * check that the chain up to there is the one the key holder saw (`verify --public-key`). Node's own crypto does
 * Ed25519 (no dependency).
 *
 * The signature covers the canonical JSON of `{record, head, count, at, key}` (see `signedText`): `head` is the
 * hash of the record before the checkpoint (the checkpoint's own `prev`), `count` how many records the chain held
 * up to it, `key` the SHA-256 of the public key (DER, SPKI) so a verifier can tell which key signed.
 */

export interface Checkpoint {
  record: "checkpoint";
  head: string;
  count: number;
  at: string;
  key: string;
  /** Base64 Ed25519 signature of `signedText`. */
  signature: string;
}

const HOW_TO_MAKE =
  "make one with: openssl genpkey -algorithm ed25519 -out signing-key.pem (see docs/proof.md)";

function signedText(checkpoint: Omit<Checkpoint, "signature">): string {
  const { record, head, count, at, key } = checkpoint;
  return canonicalJson({ record, head, count, at, key });
}

/** SHA-256 (hex) of the public key's DER form: names the key in every checkpoint it signs. */
function fingerprint(publicKey: KeyObject): string {
  return createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
}

function requireEd25519(key: KeyObject, source: string, kind: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new UsageError(
      `${source}: a ${key.asymmetricKeyType ?? "non"} key, not an Ed25519 ${kind}; ${HOW_TO_MAKE}`,
    );
  }
  return key;
}

export class CheckpointSigner {
  private readonly key: string;

  private constructor(private readonly privateKey: KeyObject) {
    this.key = fingerprint(createPublicKey(privateKey));
  }

  /** An Ed25519 private key in PEM (`source` names it in messages); bad input is a UsageError (exit 2). */
  static fromPem(pem: string, source: string): CheckpointSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new UsageError(`${source}: not a private key in PEM form; ${HOW_TO_MAKE}`);
    }
    return new CheckpointSigner(requireEd25519(key, source, "private key"));
  }

  /** The checkpoint record for a chain whose last record has hash `head`, `count` records long. */
  checkpoint(head: { hash: string; count: number }, at: Date): Unlinked {
    const unsigned = {
      record: "checkpoint" as const,
      head: head.hash,
      count: head.count,
      at: at.toISOString(),
      key: this.key,
    };
    const signature = sign(null, Buffer.from(signedText(unsigned)), this.privateKey).toString("base64");
    return { ...unsigned, signature } satisfies Checkpoint;
  }
}

/** Checks checkpoints with a public key alone. */
export class CheckpointVerifier {
  private readonly key: string;

  private constructor(private readonly publicKey: KeyObject) {
    this.key = fingerprint(publicKey);
  }

  /** An Ed25519 public key in PEM (a private key PEM works too: its public half is used). */
  static fromPem(pem: string, source: string): CheckpointVerifier {
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new UsageError(
        `${source}: not a public key in PEM form; export it with: openssl pkey -in signing-key.pem -pubout -out public-key.pem`,
      );
    }
    return new CheckpointVerifier(requireEd25519(key, source, "public key"));
  }

  /**
   * Why the checkpoint record does not hold, or undefined when it does: signed by this key, over exactly the
   * head and length of the chain before it (`before`).
   */
  problem(
    record: Record<string, unknown>,
    before: { head: string | undefined; count: number },
  ): string | undefined {
    const { head, count, at, key, signature } = record;
    if (typeof head !== "string" || typeof count !== "number" || typeof at !== "string")
      return "it is not a complete checkpoint";
    if (typeof key !== "string" || typeof signature !== "string") return "it carries no signature";
    if (key !== this.key) return `it is signed by another key (${key.slice(0, 16)}…), not by the one given`;
    const valid = verify(
      null,
      Buffer.from(signedText({ record: "checkpoint", head, count, at, key })),
      this.publicKey,
      Buffer.from(signature, "base64"),
    );
    if (!valid) return "its signature does not match its content";
    if (head !== before.head || count !== before.count)
      return `it signs a chain of ${count} records ending in ${head.slice(0, 16)}…, but the chain before it is ${before.count} records ending in ${(before.head ?? "").slice(0, 16)}…`;
    return undefined;
  }
}
