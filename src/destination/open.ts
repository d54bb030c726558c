import { LocalFolder } from "./local/folder.js";
import type { Destination } from "./types.js";

/**
 * The destination `--out` names: `s3://BUCKET[/PREFIX]` (a malformed URL is a UsageError, exit 2; the AWS SDK
 * is loaded only then, and no request is made yet) or a local folder.
 */
export async function openDestination(out: string, env: NodeJS.ProcessEnv): Promise<Destination> {
  const { isS3Url, parseS3Url } = await import("./s3/url.js");
  if (!isS3Url(out)) return new LocalFolder(out);
  const location = parseS3Url(out);
  const { S3Destination } = await import("./s3/destination.js");
  return S3Destination.open(location, env);
}
