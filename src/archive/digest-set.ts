import { createHash } from "node:crypto";

/** 32-bit words a member takes: 128 bits of its digest. */
const WORDS = 4;

/**
 * A set of strings that keeps 16 bytes of each one's SHA-256 in a single typed array instead of the string: a
 * member costs 16-32 bytes whatever its length, and nothing of it lives on V8's heap for the garbage collector to
 * walk. `verify` holds every archived path in one (150k paths of ~170 characters were ~40 MB of strings). Two
 * different strings share 128 bits of their SHA-256 with a probability of about 2^-128 per pair: never, in practice.
 */
export class DigestSet {
  /** Open addressing with linear probing, WORDS words a slot; a slot of zeros is empty (see digestOf). */
  private slots = new Uint32Array(1024 * WORDS);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(text: string): void {
    if ((this.count + 1) * 2 > this.slots.length / WORDS) this.grow();
    if (this.place(this.slots, digestOf(text))) this.count += 1;
  }

  has(text: string): boolean {
    const digest = digestOf(text);
    const slots = this.slots;
    const mask = slots.length / WORDS - 1;
    for (let slot = (digest[0] as number) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      if (slots[at + 3] === 0) return false;
      if (sameDigest(slots, at, digest)) return true;
    }
  }

  /** Put `digest` into `slots` unless it is there; whether it was new. */
  private place(slots: Uint32Array, digest: Uint32Array): boolean {
    const mask = slots.length / WORDS - 1;
    for (let slot = (digest[0] as number) & mask; ; slot = (slot + 1) & mask) {
      const at = slot * WORDS;
      if (slots[at + 3] === 0) {
        slots.set(digest, at);
        return true;
      }
      if (sameDigest(slots, at, digest)) return false;
    }
  }

  /** Twice the slots, every member placed again: the table stays at most half full. */
  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    for (let at = 0; at < old.length; at += WORDS) {
      if (old[at + 3] !== 0) this.place(this.slots, old.subarray(at, at + WORDS));
    }
  }
}

function sameDigest(slots: Uint32Array, at: number, digest: Uint32Array): boolean {
  return (
    slots[at] === digest[0] &&
    slots[at + 1] === digest[1] &&
    slots[at + 2] === digest[2] &&
    slots[at + 3] === digest[3]
  );
}

/** The first 128 bits of the text's SHA-256; the last word's low bit is always set, so no digest is all zeros. */
function digestOf(text: string): Uint32Array {
  const hash = createHash("sha256").update(text).digest();
  const words = new Uint32Array(hash.buffer.slice(hash.byteOffset, hash.byteOffset + WORDS * 4));
  words[3] = ((words[3] as number) | 1) >>> 0;
  return words;
}
