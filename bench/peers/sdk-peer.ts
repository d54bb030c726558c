/**
 * What the RingCentral samples and community archive scripts do, shared by the `naive` and `concurrent`
 * peers: log in with the JWT (every run), page through the call log into an array, then fetch each
 * `contentUri` with `platform.get` + `arrayBuffer()` + `writeFile`. A failed recording is logged and skipped,
 * like a cron script that should not stop at one bad file. Configured by the environment variables of the
 * RingCentral quick starts, plus BENCH_OUT / BENCH_FROM / BENCH_DRY_RUN.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SDK } from "@ringcentral/sdk";

type Platform = ReturnType<SDK["platform"]>;

export interface Recording {
  id: string;
  contentUri: string;
}

interface CallLogPage {
  records: { recording?: Recording }[];
  navigation?: { nextPage?: { uri: string } };
}

export interface PeerResult {
  listed: number;
  downloaded: number;
  failed: number;
  bytes: number;
  /** A few distinct error messages (the SDK's; they carry no token). */
  errors: string[];
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export async function connect(options: { handleRateLimit: boolean }): Promise<Platform> {
  const sdk = new SDK({
    server: env("RC_SERVER_URL"),
    clientId: env("RC_APP_CLIENT_ID"),
    clientSecret: env("RC_APP_CLIENT_SECRET"),
    handleRateLimit: options.handleRateLimit,
  });
  const platform = sdk.platform();
  await platform.login({ jwt: env("RC_USER_JWT") });
  return platform;
}

/** Every recording in the call log since BENCH_FROM, following `navigation.nextPage`. */
export async function listRecordings(platform: Platform): Promise<Recording[]> {
  const seen = new Set<string>();
  const recordings: Recording[] = [];
  let response = await platform.get("/restapi/v1.0/account/~/call-log", {
    dateFrom: env("BENCH_FROM"),
    recordingType: "All",
    perPage: 1000,
  });
  for (;;) {
    const page = (await response.json()) as CallLogPage;
    for (const { recording } of page.records) {
      // Two legs of one call share a recording: fetch it once.
      if (recording && !seen.has(recording.id)) {
        seen.add(recording.id);
        recordings.push(recording);
      }
    }
    const next = page.navigation?.nextPage?.uri;
    if (!next) return recordings;
    response = await platform.get(next);
  }
}

export async function downloadOne(platform: Platform, recording: Recording): Promise<number> {
  const response = await platform.get(recording.contentUri);
  const body = Buffer.from(await response.arrayBuffer());
  await writeFile(join(env("BENCH_OUT"), `${recording.id}.mp3`), body);
  return body.length;
}

export function isDryRun(): boolean {
  return process.env.BENCH_DRY_RUN === "1";
}

/** Run `body`, print the JSON result on stdout, exit 1 when anything failed. */
export async function runPeer(body: (result: PeerResult) => Promise<void>): Promise<void> {
  const result: PeerResult = { listed: 0, downloaded: 0, failed: 0, bytes: 0, errors: [] };
  try {
    await body(result);
  } catch (error) {
    result.failed++;
    note(result, error);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.failed > 0 ? 1 : 0;
}

export function note(result: PeerResult, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  if (result.errors.length < 3 && !result.errors.includes(message)) result.errors.push(message);
}
