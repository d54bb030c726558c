/**
 * `npm run emulator -- [flags]`: run the emulator as its own process. Prints ONE JSON line
 * {"server","media","clientId","clientSecret","jwt"} once both origins listen, then serves until SIGINT/SIGTERM.
 * These are the emulator's demo credentials, not real secrets.
 */
import { parseArgs } from "node:util";
import type { Faults } from "./faults.js";
import { type EmulatorOptions, start } from "./index.js";
import { withoutUndefined } from "./options.js";

const USAGE = `Usage: npm run emulator -- [options]
  --print-env            print \`export\` lines to paste into another shell instead of the JSON line  --host H               listen address (127.0.0.1)
  --tls                  HTTPS with a throw-away CA made at start (its file is "caFile" in the JSON line)
  --api-host-name N      host name the API origin advertises (e.g. platform.ringcentral.biz)
  --media-host-name N    host name the media origin advertises (e.g. media.ringcentral.biz)
  --cdn-host-name N      host name the CDN origin advertises
  --port N               API origin port (0 = ephemeral)
  --media-port N         media origin port (0 = ephemeral)
  --calls N              call-log records (30)
  --recording-bytes N    size of every recording (default 20-150 KB each)
  --span-hours H         spread calls over H hours before now (23)
  --seed N               dataset and fault seed (1)
  --access-ttl S         default access token lifetime (3600)
  --min-access-ttl S     lower clamp of a requested access_token_ttl (min(600, access-ttl))
  --refresh-ttl S        default refresh token lifetime (604800)
  --max-sessions N       live sessions per user+app (5)
  --non-admin            users lack FullCompanyCallLog (account call log → 403)
  --auth-limit N --light-limit N --medium-limit N --heavy-limit N   (5/50/40/10)
  --window S             rate-limit window (60)
  --penalty S            rate-limit penalty (60)
  --no-rate-limits       no limits, no X-Rate-Limit-* headers
  --bandwidth B          content bytes/s per response
  --latency MS           added latency per request
  --reset-rate P         probability of a mid-body connection reset per content request
  --truncate-rate P      probability of a truncated body (clean close)
  --unavailable-rate P   probability of 503 + Retry-After per content request
  --reset-first-attempts N   reset the first N attempts of every recording
  --retention-every MS   retention: the oldest recording disappears, then one more every MS
  --retention-start-in MS    ... starting this long after start-up (0)
  --retention-period D   the account's retentionPeriod: recordings older than D days are gone (90)
  --max-number-limit N   the account's maxNumberLimit, as reported (100000)
  --no-recording-settings    GET …/call-recording answers 403 (a missing permission)
  --call-log-delay MS    started calls: record + recording appear this long after Disconnected (3000)
  --ws-token-ttl S       WebSocket token lifetime (600)
  --recovery-timeout S   a lost connection can be recovered with wsc this long (180)
  --idle-timeout S       WSG-902 after this long without client activity (1800)
  --absolute-timeout S   WSG-903: every connection closes this long after it opened (86400)
  --ping-interval MS     ping frames this often (30000)`;

const { values } = parseArgs({
  options: {
    help: { type: "boolean" },
    "print-env": { type: "boolean" },
    host: { type: "string" },
    tls: { type: "boolean" },
    "api-host-name": { type: "string" },
    "media-host-name": { type: "string" },
    "cdn-host-name": { type: "string" },
    port: { type: "string" },
    "media-port": { type: "string" },
    calls: { type: "string" },
    "recording-bytes": { type: "string" },
    "span-hours": { type: "string" },
    seed: { type: "string" },
    "access-ttl": { type: "string" },
    "min-access-ttl": { type: "string" },
    "refresh-ttl": { type: "string" },
    "max-sessions": { type: "string" },
    "non-admin": { type: "boolean" },
    "auth-limit": { type: "string" },
    "light-limit": { type: "string" },
    "medium-limit": { type: "string" },
    "heavy-limit": { type: "string" },
    window: { type: "string" },
    penalty: { type: "string" },
    "no-rate-limits": { type: "boolean" },
    bandwidth: { type: "string" },
    latency: { type: "string" },
    "reset-rate": { type: "string" },
    "truncate-rate": { type: "string" },
    "retention-every": { type: "string" },
    "retention-start-in": { type: "string" },
    "retention-period": { type: "string" },
    "max-number-limit": { type: "string" },
    "no-recording-settings": { type: "boolean" },
    "unavailable-rate": { type: "string" },
    "reset-first-attempts": { type: "string" },
    "call-log-delay": { type: "string" },
    "ws-token-ttl": { type: "string" },
    "recovery-timeout": { type: "string" },
    "idle-timeout": { type: "string" },
    "absolute-timeout": { type: "string" },
    "ping-interval": { type: "string" },
  },
  strict: true,
});

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
} else {
  await run();
}

function num(name: keyof typeof values): number | undefined {
  const raw = values[name];
  if (raw === undefined || typeof raw === "boolean") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new TypeError(`--${name} expects a number, got ${raw}`);
  return value;
}

function faultsFromFlags(): Faults {
  const faults: Faults = {};
  const seed = num("seed");
  if (seed !== undefined) faults.seed = seed;
  const latency = num("latency");
  if (latency !== undefined) faults.latencyMs = latency;
  const bandwidth = num("bandwidth");
  if (bandwidth !== undefined) faults.bandwidth = bandwidth;
  const resetRate = num("reset-rate");
  const resetFirst = num("reset-first-attempts");
  if (resetRate !== undefined || resetFirst !== undefined) {
    faults.reset = { probability: resetRate, firstAttemptsPerRecording: resetFirst };
  }
  const truncateRate = num("truncate-rate");
  if (truncateRate !== undefined) faults.truncate = { probability: truncateRate };
  const unavailableRate = num("unavailable-rate");
  if (unavailableRate !== undefined) faults.unavailable = { probability: unavailableRate };
  return faults;
}

function optionsFromFlags(): EmulatorOptions {
  const spanHours = num("span-hours");
  return withoutUndefined({
    host: values.host,
    tls: values.tls,
    apiHostName: values["api-host-name"],
    mediaHostName: values["media-host-name"],
    cdnHostName: values["cdn-host-name"],
    port: num("port"),
    mediaPort: num("media-port"),
    calls: num("calls"),
    recordingBytes: num("recording-bytes"),
    spanMs: spanHours === undefined ? undefined : spanHours * 3_600_000,
    seed: num("seed"),
    accessTokenTtl: num("access-ttl"),
    minAccessTokenTtl: num("min-access-ttl"),
    refreshTokenTtl: num("refresh-ttl"),
    maxSessions: num("max-sessions"),
    admin: values["non-admin"] ? false : undefined,
    rateLimits: values["no-rate-limits"]
      ? false
      : {
          windowSec: num("window"),
          penaltySec: num("penalty"),
          limits: {
            auth: num("auth-limit"),
            light: num("light-limit"),
            medium: num("medium-limit"),
            heavy: num("heavy-limit"),
          },
        },
    faults: faultsFromFlags(),
    retention: retentionFromFlags(),
    recordingSettings: withoutUndefined({
      retentionPeriod: num("retention-period"),
      maxNumberLimit: num("max-number-limit"),
      forbidden: values["no-recording-settings"],
    }),
    callLogDelayMs: num("call-log-delay"),
    webSocket: withoutUndefined({
      tokenTtlSec: num("ws-token-ttl"),
      recoveryTimeoutSec: num("recovery-timeout"),
      idleTimeoutSec: num("idle-timeout"),
      absoluteTimeoutSec: num("absolute-timeout"),
      pingIntervalMs: num("ping-interval"),
    }),
  });
}

function retentionFromFlags(): EmulatorOptions["retention"] {
  const everyMs = num("retention-every");
  if (everyMs === undefined) return undefined;
  return { everyMs, startAt: Date.now() + (num("retention-start-in") ?? 0) };
}

/** Drop undefined values so they do not override defaults in spreads. */
function defined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

async function run(): Promise<void> {
  const options = optionsFromFlags();
  const emulator = await start({
    ...defined(options),
    rateLimits: options.rateLimits === false ? false : defined(options.rateLimits ?? {}),
  });
  const { clientId, clientSecret, jwt } = emulator.credentials;
  process.stdout.write(
    values["print-env"]
      ? exportLines(emulator.server, emulator.credentials, emulator.caFile)
      : `${JSON.stringify({ server: emulator.server, media: emulator.media, clientId, clientSecret, jwt, caFile: emulator.caFile })}\n`,
  );
  const shutdown = () => {
    void emulator.stop();
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

/**
 * `--print-env`: what another shell needs to log in against this emulator, as lines to paste (the demo
 * credentials, not secrets), so nobody copies JSON fields by hand. A throw-away profile and file store keep a
 * real login untouched.
 */
function exportLines(
  server: string,
  credentials: { clientId: string; clientSecret: string; jwt: string },
  caFile: string | undefined,
): string {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  const vars: [string, string][] = [
    ["RC_SERVER_URL", server],
    ["RC_APP_CLIENT_ID", credentials.clientId],
    ["RC_APP_CLIENT_SECRET", credentials.clientSecret],
    ["RC_USER_JWT", credentials.jwt],
    ["RC_RECORDINGS_PROFILE", "emulator"],
    ["RC_RECORDINGS_STORE", "file"],
    ...(caFile === undefined ? [] : ([["NODE_EXTRA_CA_CERTS", caFile]] as [string, string][])),
  ];
  return `${[
    "# the emulator's demo credentials (not secrets); paste into another shell, then:",
    "#   rc-recordings login && rc-recordings download --out ./emulator-recordings",
    ...vars.map(([name, value]) => `export ${name}=${quote(value)}`),
  ].join("\n")}\n`;
}
