import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import type { RecordingItem } from "./types.js";

/** `<file>.json` beside the recording (`--metadata`): the call-log record as the platform sent it. */
export function sidecarKeyOf(key: RelPath): RelPath {
  return relPath(`${key}.json`);
}

export async function writeSidecar(
  destination: Destination,
  key: RelPath,
  item: RecordingItem,
): Promise<void> {
  await destination.writeSmall(
    sidecarKeyOf(key),
    `${JSON.stringify(item.record, null, 2)}\n`,
    "application/json",
  );
}

/** A rerun with --metadata adds the sidecars that an earlier run without it did not write. */
export async function ensureSidecar(
  destination: Destination,
  key: RelPath,
  item: RecordingItem,
): Promise<void> {
  if ((await destination.stat(sidecarKeyOf(key))) === undefined) await writeSidecar(destination, key, item);
}
