/**
 * Every failure the CLI reports is one of these typed errors. `cli.ts` is the only place that turns them into
 * an exit code and a one-line message; code elsewhere throws and never calls `process.exit`.
 *
 * An error also carries what the code that meets it should do (after rclone's fserrors Retrier / Fataler /
 * NoRetrier): `retryable` (another try may succeed: see retry.ts), `permanent` (no later run will do better
 * either, so nothing is kept for one) and `endsRun` (every other item would fail the same way). Code that
 * catches reads these properties; it never lists error classes.
 */

export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  partial: 3,
  loginRequired: 4,
  busy: 5,
  stoppedAtMaxDuration: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class CliError extends Error {
  abstract readonly exitCode: ExitCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something went wrong that is neither the user's input nor the login (network, server, disk). */
export class OperationError extends CliError {
  readonly exitCode = ExitCode.error;
}

/** What an error says about itself; absent means no. */
export interface ErrorPolicy {
  readonly retryable?: boolean;
  readonly permanent?: boolean;
  readonly endsRun?: boolean;
  /** This item failed, and any new one would too (the disk is full): start no more, let the others finish. */
  readonly stopsNewWork?: boolean;
}

function policyOf(error: unknown): ErrorPolicy {
  return typeof error === "object" && error !== null ? (error as ErrorPolicy) : {};
}

/** Ends the whole run rather than one item: no login left, or the user stopped us. */
export function endsRun(error: unknown): boolean {
  return policyOf(error).endsRun === true;
}

/** Start no new item: it would fail the same way (the disk is full). Items under way finish. */
export function stopsNewWork(error: unknown): boolean {
  return policyOf(error).stopsNewWork === true;
}

/** Retrying later will not help (a 404, a foreign host, a name outside DIR). */
export function isPermanent(error: unknown): boolean {
  return policyOf(error).permanent === true;
}

/** Bad flags, bad values, missing secrets with nobody to ask: exit 2. */
export class UsageError extends CliError {
  readonly exitCode = ExitCode.usage;
}

/** Some items failed after retries; the rest succeeded: exit 3. */
export class PartialFailureError extends CliError {
  readonly exitCode = ExitCode.partial;
}

/**
 * The command that logs a profile in again, as a hint names it (a scheduled job's profile is not the default);
 * `store` names the store to log in to (`file`: the one a cron job reaches).
 */
export function loginCommand(profile: string | undefined, store?: "file"): string {
  return profileCommand(profile, store === undefined ? "login" : `--store ${store} login`);
}

/** `rc-recordings [--profile P] <rest>`, as a hint names a command of one profile. */
export function profileCommand(profile: string | undefined, rest: string): string {
  return profile === undefined || profile === "default"
    ? `rc-recordings ${rest}`
    : `rc-recordings --profile ${profile} ${rest}`;
}

/**
 * No usable login: never logged in, revoked, refresh token and JWT both rejected: exit 4. The hint names the
 * profile; code that does not know it (the API layer) leaves it to cli.ts (`forProfile`).
 */
export class LoginRequiredError extends CliError {
  readonly exitCode = ExitCode.loginRequired;
  readonly endsRun = true;
  readonly profile: string | undefined;

  constructor(
    readonly reason: string,
    options?: ErrorOptions & { profile?: string },
  ) {
    super(`${reason}; run: ${loginCommand(options?.profile)}`, options);
    this.profile = options?.profile;
  }

  /** The same error, its hint naming `profile` (unless it names one already). */
  forProfile(profile: string): LoginRequiredError {
    if (this.profile !== undefined) return this;
    return new LoginRequiredError(this.reason, { profile, cause: this.cause });
  }
}

/** Another process holds a lock that must not be shared (e.g. a download into the same folder): exit 5. */
export class BusyError extends CliError {
  readonly exitCode = ExitCode.busy;
}

/**
 * `--max-duration` ran out while recordings remained: not a failure (the next run continues where this one
 * stopped), but not "everything is on disk" either: exit 6. `remaining` is undefined when the listing had not
 * reached the end of the range (the count is then unknown).
 */
export class StoppedAtMaxDurationError extends CliError {
  readonly exitCode = ExitCode.stoppedAtMaxDuration;

  constructor(readonly remaining: number | undefined) {
    super(
      `stopped at --max-duration; ${
        remaining === undefined
          ? "more recordings remain (the listing had not reached the end)"
          : `${remaining} recordings remain`
      }; the next run continues`,
    );
  }
}

/** Stopped by SIGINT/SIGTERM after a clean stop: exit 130. */
export class InterruptedError extends CliError {
  readonly exitCode = ExitCode.interrupted;
  readonly endsRun = true;

  constructor(message = "interrupted") {
    super(message);
  }
}

/** The exit code for anything thrown out of a command. Unknown errors are plain failures (1). */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof CliError ? error.exitCode : ExitCode.error;
}
