import type { S3Client, ServiceInputTypes, ServiceOutputTypes } from "@aws-sdk/client-s3";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import { UsageError } from "../../errors.js";
import { registerSecret } from "../../log/redact.js";

/**
 * The AWS SDK, loaded only when `--out` is an s3:// URL: `--version`, `--help` and local runs never pay for it
 * (~20 MiB of resident memory). Everything that needs it gets it from here.
 */
export type S3Sdk = typeof import("@aws-sdk/client-s3");

export interface S3Connection {
  client: S3Client;
  sdk: S3Sdk;
  /** The S3-compatible endpoint from the environment, if any (AWS itself otherwise). */
  endpoint: string | undefined;
  /**
   * Send a CRC32 with every Buffer body (parts, small objects) so the store rejects one corrupted on the way;
   * off with AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED for stores that refuse checksum headers.
   */
  checksums: boolean;
  /** The process's signal (Ctrl-C, SIGTERM): every request but the clean-up after it stops at once. */
  signal: AbortSignal | undefined;
  /** `signal`, or the time-boxed run's last moment (ConnectOptions.endBy): reads and uploads stop at either. */
  stop: AbortSignal | undefined;
  /**
   * The clean-up's bound: aborts SETTLE_MS after `signal`, or at `endBy`. Small writes and clean-up (a state
   * object, the lock's write and release, an upload's abort) are left to finish after Ctrl-C, but not to outlast
   * this: a store that stopped answering must not keep a stopped run alive.
   */
  settle: AbortSignal | undefined;
  /** A time-boxed run's last moment: what aborts then failed because the time box ran out. */
  endBy: AbortSignal | undefined;
}

export interface ConnectOptions {
  signal?: AbortSignal | undefined;
  /** A time-boxed run's last moment (see DestinationOptions.endBy): every request still under way stops. */
  endBy?: AbortSignal | undefined;
  /** Silence on a request's connection (no byte either way) after which it fails; injected in tests. */
  idleTimeoutMs?: number;
}

/**
 * A store that stops answering fails the request after this much silence (the SDK then retries it, as any
 * timeout), so a stalled store fails a recording instead of hanging the run: the same 60 s a download's body may
 * be silent before it counts as a stall.
 */
const IDLE_TIMEOUT_MS = 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** S3 API calls per request the SDK makes before it gives up (5xx, SlowDown, resets, timeouts). */
const MAX_ATTEMPTS = 6;

/**
 * How long the small writes and clean-up still under way may take after Ctrl-C/SIGTERM: a store that answers
 * does so in milliseconds; one that stopped answering leaves the lock behind (taken over as a dead holder's) and
 * the state as after a kill (the next run repairs it), never a run that does not end.
 */
export const SETTLE_MS = 2_000;

/**
 * A client from the standard AWS chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
 * `AWS_PROFILE` and the `~/.aws` files, SSO, container and instance roles; region from `AWS_REGION` or the
 * profile. `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) selects an S3-compatible store, addressed path-style
 * (MinIO, Ceph, s3rver and most others have no per-bucket host names).
 */
export async function connectS3(env: NodeJS.ProcessEnv, options: ConnectOptions = {}): Promise<S3Connection> {
  const endpoint = endpointOf(env);
  registerSecret(env.AWS_SECRET_ACCESS_KEY);
  registerSecret(env.AWS_SESSION_TOKEN);
  // The SDK warns on every start under Node 20 about releases that will need Node 22; the pinned release works
  // on 20, and a nightly cron job's stderr is no place for a notice its reader cannot act on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const sdk = await import("@aws-sdk/client-s3");
  const client = new sdk.S3Client({
    // Checksums are asked for per request, on Buffer bodies only (see S3ObjectWriter): the SDK's default would
    // also wrap a streamed body in aws-chunked framing with a trailing checksum, which some stores (s3rver)
    // keep inside the object.
    requestChecksumCalculation: "WHEN_REQUIRED",
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    },
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    // AWS_MAX_ATTEMPTS, when set, is the user's to choose.
    maxAttempts: Number(env.AWS_MAX_ATTEMPTS) > 0 ? Number(env.AWS_MAX_ATTEMPTS) : MAX_ATTEMPTS,
    // The environment's own values first, exactly as the SDK's chain would take them (and so a test can hand
    // in an environment of its own); otherwise the chain goes on: profile, SSO, container and instance roles.
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    // An S3-compatible store without a region of its own accepts any; AWS needs the real one.
    ...(endpoint !== undefined && !env.AWS_REGION && !env.AWS_PROFILE ? { region: "us-east-1" } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
  redactSessionTokens(client);
  const checksums = env.AWS_REQUEST_CHECKSUM_CALCULATION?.toUpperCase() !== "WHEN_REQUIRED";
  const { signal, endBy } = options;
  return {
    client,
    sdk,
    endpoint,
    checksums,
    signal,
    stop: signal && endBy ? AbortSignal.any([signal, endBy]) : (signal ?? endBy),
    settle: settling(signal, endBy),
    endBy,
  };
}

/** A signal that aborts SETTLE_MS after `signal` does, or when `endBy` does (see S3Connection.settle). */
function settling(signal: AbortSignal | undefined, endBy: AbortSignal | undefined): AbortSignal | undefined {
  if (!signal && !endBy) return undefined;
  const settle = new AbortController();
  const later = () => setTimeout(() => settle.abort(signal?.reason), SETTLE_MS).unref();
  if (signal?.aborted) later();
  else signal?.addEventListener("abort", later, { once: true });
  const now = () => settle.abort(endBy?.reason);
  if (endBy?.aborted) now();
  else endBy?.addEventListener("abort", now, { once: true });
  return settle.signal;
}

function endpointOf(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] as const) {
    const value = env[name]?.trim();
    if (!value) continue;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
      throw new UsageError(`${name} ${JSON.stringify(value)} is not an http(s) URL`);
    }
    return value;
  }
  return undefined;
}

/**
 * A session token goes to the store in every signed request (`x-amz-security-token`), and a store may echo it
 * in an error. Wherever the chain found it (the environment, `~/.aws/credentials`, SSO, a container or instance
 * role, renewed as it expires), it is registered as a secret as it leaves, so no line ever prints it.
 */
function redactSessionTokens(client: S3Client): void {
  const register: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => (args) => {
    const headers = (args.request as { headers?: Record<string, string | undefined> }).headers;
    registerSecret(headers?.["x-amz-security-token"]);
    return next(args);
  };
  client.middlewareStack.addRelativeTo(register, {
    relation: "after",
    toMiddleware: "httpSigningMiddleware",
    name: "rcRecordingsRedactSessionToken",
  });
}
