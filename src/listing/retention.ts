import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import { endsRun } from "../errors.js";
import type { Logger } from "../log/logger.js";

/** The account's call-recording settings: what the platform reports, Light group (spec §10). */
export const RECORDING_SETTINGS_PATH = "/restapi/v1.0/account/~/call-recording";

const DAY_MS = 24 * 60 * 60 * 1000;

/** How long the platform keeps recordings for this account, and whether the account said so. */
export interface PlatformRetention {
  /** `retentionPeriod`: recordings older than this many days are deleted. */
  days: number;
  /** `maxNumberLimit`: the account keeps at most this many recordings (the oldest go first). */
  maxRecordings: number;
  /** Read from the account (true), or RingCentral's defaults because it could not be read (false). */
  fromAccount: boolean;
}

/** RingCentral's defaults (90 days, 100,000 recordings): what "unknown" means. */
export const DEFAULT_RETENTION: PlatformRetention = { days: 90, maxRecordings: 100_000, fromAccount: false };

/** Recordings retention deletes within this many days are "at risk" (the metrics file's at-risk count). */
export const AT_RISK_DAYS = 7;

/** The start time before which a recording kept now is deleted within AT_RISK_DAYS. */
export function atRiskCutoff(retention: PlatformRetention, now: Date): Date {
  return new Date(retentionEdge(retention, now).getTime() + AT_RISK_DAYS * DAY_MS);
}

/** The oldest start time the platform still keeps a recording of, at `now`. */
export function retentionEdge(retention: PlatformRetention, now: Date): Date {
  return new Date(now.getTime() - retention.days * DAY_MS);
}

/**
 * The account's retention, through the run's client (a Light request, rate-limited, 401 recovered, 20 s idle
 * timeout, the caller's signal). Knowing it is a refinement, never a precondition: a refusal (403, the app
 * lacks ReadAccounts), an error or an odd answer means RingCentral's defaults, said in one line. Only what ends
 * any run (no login left, Ctrl-C) is thrown.
 */
export async function readRetention(
  api: ApiClient,
  options: { signal: AbortSignal; log: Logger },
): Promise<PlatformRetention> {
  const { signal, log } = options;
  let body: { retentionPeriod?: unknown; maxNumberLimit?: unknown };
  try {
    body = await api.getJson(RECORDING_SETTINGS_PATH, { signal });
  } catch (error) {
    if (endsRun(error) || signal.aborted) throw error;
    const why =
      error instanceof ApiError && error.status === 403
        ? "no permission (the app needs ReadAccounts)"
        : (error as Error).message;
    log.warn(`could not read the account's recording retention (${why}); assuming ${describeDefaults()}`);
    return DEFAULT_RETENTION;
  }
  const days = wholeNumber(body.retentionPeriod, 36_500);
  const maxRecordings = wholeNumber(body.maxNumberLimit, 100_000_000);
  if (days === undefined) {
    log.warn(
      `the account's recording settings have no usable retentionPeriod (${JSON.stringify(body.retentionPeriod) ?? "none"}); assuming ${describeDefaults()}`,
    );
    return DEFAULT_RETENTION;
  }
  log.debug(`the account keeps recordings for ${days} days (at most ${maxRecordings ?? "?"} recordings)`);
  return { days, maxRecordings: maxRecordings ?? DEFAULT_RETENTION.maxRecordings, fromAccount: true };
}

function describeDefaults(): string {
  return `RingCentral's defaults: ${DEFAULT_RETENTION.days} days, ${DEFAULT_RETENTION.maxRecordings.toLocaleString("en-US")} recordings`;
}

function wholeNumber(value: unknown, max: number): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max
    ? value
    : undefined;
}
