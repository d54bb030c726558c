import { type RelPath, relPath } from "../destination/rel-path.js";
import type { Destination } from "../destination/types.js";
import type { RecordingItem } from "../listing/types.js";
import { redact } from "../log/redact.js";

/**
 * `<file>.json` beside the recording (`--metadata`): the call-log record as the platform sent it, minus any secret
 * a server echoed into it (a token in a URI, say): a sidecar is archived and shared like the recording.
 */
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
    `${redact(JSON.stringify(item.record, null, 2))}\n`,
    "application/json",
    "evidence",
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
