/** The concurrent peer: the naive script with p-limit(8) and the SDK's own 429 handling (`handleRateLimit`). */
import pLimit from "p-limit";
import { connect, downloadOne, isDryRun, listRecordings, note, runPeer } from "./sdk-peer.js";

const CONCURRENCY = 8;

await runPeer(async (result) => {
  const platform = await connect({ handleRateLimit: true });
  const recordings = await listRecordings(platform);
  result.listed = recordings.length;
  if (isDryRun()) return;
  const limit = pLimit(CONCURRENCY);
  await Promise.all(
    recordings.map((recording) =>
      limit(async () => {
        try {
          result.bytes += await downloadOne(platform, recording);
          result.downloaded++;
        } catch (error) {
          result.failed++;
          note(result, error);
        }
      }),
    ),
  );
});
