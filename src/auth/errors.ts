import { CliError, ExitCode, LoginRequiredError, OperationError } from "../errors.js";

/** The store file exists but cannot be trusted (truncated, edited, tampered with, key gone): exit 4. */
export class StoreCorruptError extends LoginRequiredError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`the token store ${path} is corrupt or unreadable (${detail})`);
  }
}

/**
 * The OS keychain did not answer (no D-Bus session, locked, timed out). For a profile the keychain already holds
 * this is an error (exit 1), never "not logged in": the login still exists, it just cannot be read right now.
 */
export class KeychainUnavailableError extends OperationError {}

/** The token endpoint refused the app credentials or the JWT at `login`: one clear line, exit 4. */
export class CredentialsRejectedError extends CliError {
  readonly exitCode = ExitCode.loginRequired;
}

/**
 * The token endpoint stayed unreachable (network error, 408, 5xx) through its own retries. Nothing is wrong
 * with the login, so a caller with a longer patience (the listing, a transfer) may try again later.
 */
export class TokenEndpointUnavailableError extends OperationError {
  readonly retryable = true;
}

/**
 * The token endpoint answered 429 (Auth group: 5 requests a minute per app). Thrown instead of waiting, so the
 * wait happens with the profile's lock released (token-lock.ts) and another process can use the pair meanwhile.
 */
export class TokenEndpointRateLimitedError extends OperationError {
  readonly retryAfterMs: number | undefined;

  constructor(what: string, retryAfterMs: number | undefined) {
    super(`could not ${what}: the token endpoint keeps answering 429 (rate limited)`);
    this.retryAfterMs = retryAfterMs;
  }
}
