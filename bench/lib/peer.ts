import type { PeerResult } from "../peers/sdk-peer.js";
import type { StartedEmulator } from "./emulator-protocol.js";
import { lastJsonLine, type Measured, measure } from "./measure.js";

export interface PeerRun extends Measured {
  result: PeerResult | undefined;
}

export interface PeerArgs {
  out: string;
  from: string;
  dryRun?: boolean;
  maxRssPreload?: string;
}

/** Run a transpiled SDK peer (naive or concurrent) as its own process, configured like the RingCentral samples. */
export async function runSdkPeer(
  script: string,
  emulator: StartedEmulator,
  args: PeerArgs,
): Promise<PeerRun> {
  const env: NodeJS.ProcessEnv = {
    RC_SERVER_URL: emulator.server,
    RC_APP_CLIENT_ID: emulator.credentials.clientId,
    RC_APP_CLIENT_SECRET: emulator.credentials.clientSecret,
    RC_USER_JWT: emulator.credentials.jwt,
    BENCH_OUT: args.out,
    BENCH_FROM: args.from,
    ...(args.dryRun && { BENCH_DRY_RUN: "1" }),
  };
  const run = await measure(process.execPath, [script], { env, maxRssPreload: args.maxRssPreload });
  return { ...run, result: lastJsonLine<PeerResult>(run.stdout) };
}
