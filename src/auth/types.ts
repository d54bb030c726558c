/**
 * The contract between the auth session (the only owner of tokens) and everything that calls the API.
 * Callers never see a refresh token, never refresh, never log in: they ask for an access token and report a
 * 401; the session does the rest under the profile's cross-process lock.
 */
export interface AccessTokenProvider {
  /** The configured API server origin, e.g. "https://platform.ringcentral.com" (no trailing slash). */
  readonly server: string;
  /**
   * A usable access token. When the stored one expires within a minute this refreshes first (under the
   * cross-process lock, re-reading the store before refreshing). Throws LoginRequiredError when no login
   * can be recovered.
   */
  getAccessToken(): Promise<string>;
  /**
   * A request sent with `rejectedToken` got 401 (OAU-213, OAU-129, OAU-128, ...). Recover once for all
   * concurrent callers: re-read the store, refresh, or log in again with the stored JWT. Resolves when
   * `getAccessToken()` will return a different token; throws LoginRequiredError when recovery is impossible.
   */
  recover(rejectedToken: string): Promise<void>;
}
