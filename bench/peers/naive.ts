/** The naive peer: log in, list, then download one recording after another. */
import { connect, downloadOne, isDryRun, listRecordings, note, runPeer } from "./sdk-peer.js";

await runPeer(async (result) => {
  const platform = await connect({ handleRateLimit: false });
  const recordings = await listRecordings(platform);
  result.listed = recordings.length;
  if (isDryRun()) return;
  for (const recording of recordings) {
    try {
      result.bytes += await downloadOne(platform, recording);
      result.downloaded++;
    } catch (error) {
      result.failed++;
      note(result, error);
    }
  }
});
