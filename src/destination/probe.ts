import { randomBytes } from "node:crypto";

/** A state-folder name for a write probe that no other process (or a second `doctor`) picks as well. */
export function probeName(): string {
  return `write-probe-${process.pid}-${randomBytes(4).toString("hex")}`;
}
