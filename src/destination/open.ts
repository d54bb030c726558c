import { LocalFolder } from "./local/folder.js";
import type { Destination } from "./types.js";

/** The destination `--out` names. Today always a local folder; an object-store URL scheme goes here. */
export function openDestination(out: string): Destination {
  return new LocalFolder(out);
}
