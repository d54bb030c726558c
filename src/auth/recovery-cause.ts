/**
 * "The token has not expired, why OAU-213?" — the question RingCentral developers keep asking. A recovery from
 * a 401 observes enough to name the likely cause; this is the wording, in one place.
 */

export type RecoveryCause =
  /** The store held a newer pair: another process sharing this login rotated it (single-use refresh tokens). */
  | "rotated-elsewhere"
  /** The refresh was rejected, the JWT login worked: the session itself had ended. */
  | "session-ended"
  /** The refresh worked: only the access token had been rejected. */
  | "access-token-rejected"
  /** The refresh and the JWT login were both rejected. */
  | "login-gone";

export interface RecoveryDiagnosis {
  cause: RecoveryCause;
  /** The 401's error code (OAU-213, OAU-129, ...), when the body named one. */
  errorCode: string | undefined;
  /** One line for the log. */
  message: string;
  /** What the user can do about it. */
  hint: string;
}

const WORDING: Record<RecoveryCause, { what: string; hint: string }> = {
  "rotated-elsewhere": {
    what: "another process sharing this login already rotated the token pair (the store changed); using the pair it stored",
    hint: "nothing to do: processes of one profile share the pair; a copy of the login outside this profile's store would keep breaking it",
  },
  "session-ended": {
    what: "the session itself had ended (the refresh was rejected, a new login with the stored JWT worked): a sixth login of the same user and app elsewhere, a revoke, or a password change",
    hint: "RingCentral keeps about five sessions per user and app: log in once and share the pair (one profile) instead of logging in per process or per machine",
  },
  "access-token-rejected": {
    what: "only the access token was rejected (the refresh worked): it was invalidated server-side before its expiry",
    hint: "nothing to do unless it repeats; then ask RingCentral whether something revokes access tokens of this app",
  },
  "login-gone": {
    what: "the login is gone (the refresh and the stored JWT were both rejected)",
    hint: "create a new JWT credential if the old one was revoked, then run: rc-recordings login",
  },
};

export function diagnose(cause: RecoveryCause, errorCode: string | undefined): RecoveryDiagnosis {
  const { what, hint } = WORDING[cause];
  return { cause, errorCode, message: `access token rejected (${errorCode ?? "HTTP 401"}): ${what}`, hint };
}
