/** What an honest ETA is computed from. */
export interface EtaInput {
  /** Recordings still to download; undefined while the listing has not reached the end (unknown total). */
  remaining: number | undefined;
  /** Heavy requests per second the profiles may send together (learned); undefined until taught. */
  budgetPerSecond: number | undefined;
  /** Bytes per second so far, and the average size of the recordings saved so far. */
  bytesPerSecond: number;
  averageBytes: number | undefined;
}

export type Eta =
  | { kind: "unknown"; why: "listing" | "learning" }
  | { kind: "known"; seconds: number; limitedBy: "budget" | "bandwidth" };

/**
 * Time left = whichever is slower: the Heavy requests still needed (one per recording once the listing is done)
 * at the learned budget Σ(limit ÷ window), or the bytes still to come at the bandwidth seen so far. A backfill is
 * budget-bound for days; a bytes/s figure alone would say minutes.
 */
export function estimateEta(input: EtaInput): Eta {
  const { remaining, budgetPerSecond, bytesPerSecond, averageBytes } = input;
  if (remaining === undefined) return { kind: "unknown", why: "listing" };
  if (remaining === 0) return { kind: "known", seconds: 0, limitedBy: "budget" };
  const byBudget = budgetPerSecond ? remaining / budgetPerSecond : undefined;
  const byBandwidth =
    averageBytes !== undefined && bytesPerSecond > 0
      ? (remaining * averageBytes) / bytesPerSecond
      : undefined;
  if (byBudget === undefined && byBandwidth === undefined) return { kind: "unknown", why: "learning" };
  if (byBandwidth === undefined || (byBudget !== undefined && byBudget >= byBandwidth)) {
    return { kind: "known", seconds: byBudget as number, limitedBy: "budget" };
  }
  return { kind: "known", seconds: byBandwidth, limitedBy: "bandwidth" };
}

/** Recordings one slice of a listing holds, about one call-log page (the target of listing/slices.ts). */
const RECORDINGS_PER_PAGE = 800;

/** The platform's usual Heavy budget (10 a minute), for an estimate the server has not taught a budget for. */
export const USUAL_HEAVY_PER_SECOND = 10 / 60;

/** Heavy requests a listing of about `recordings` recordings costs: a call-log page per slice, and the last. */
export function listingPages(recordings: number): number {
  return Math.ceil(recordings / RECORDINGS_PER_PAGE) + 1;
}

/** How long `requests` Heavy requests take at `perSecond` (ms); null while no budget is known. */
export function heavyDurationMs(requests: number, perSecond: number | undefined): number | null {
  return perSecond ? Math.round((requests / perSecond) * 1000) : null;
}

/** What fetching about `recordings` recordings costs: their listing's pages and one request each. */
export function backfillEstimate(
  recordings: number,
  perSecond: number | undefined,
): { requests: number; durationMs: number | null } {
  const requests = listingPages(recordings) + recordings;
  return { requests, durationMs: heavyDurationMs(requests, perSecond) };
}
