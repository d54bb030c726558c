import { ApiError, TlsTrustError } from "../api/errors.js";
import { readOwnExtension } from "../api/extension-info.js";
import { probeServer } from "../api/server-probe.js";
import { DEFAULT_SERVER, ENV_NAMES } from "../auth/credentials.js";
import { KeychainUnavailableError } from "../auth/errors.js";
import { missingPermissions } from "../auth/permissions.js";
import type { ProfileRecord } from "../auth/profile.js";
import { readAsScheduledJob } from "../auth/scheduled-job.js";
import { tokenStatus } from "../auth/status.js";
import { userBusPath } from "../auth/store/keychain.js";
import { WrongStoreKeyError } from "../auth/store/shared-store.js";
import type { CommandContext } from "../context.js";
import { LoginRequiredError, loginCommand, profileCommand } from "../errors.js";
import { describeExpiry } from "../ui/format.js";

/** Every check `doctor` makes, in the order it makes them. */
export type CheckName = "store" | "server" | "clock" | "login" | "permissions" | "destination";

/** One check's verdict. `skipped`: it could not be made because a check it needs failed. */
export interface Check {
  name: CheckName;
  status: "ok" | "problem" | "skipped";
  detail: string;
  /** For a problem: the command or step that fixes it. */
  fix: string | null;
}

/** No check waits longer than this for a server, a store or a lock: a doctor that hangs helps nobody. */
export const CHECK_TIMEOUT_MS = 20_000;
/** A clock further off than this is a problem: S3 refuses signatures 15 min off long before, dates drift in names. */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** The checks whose verdict comes with another's: the clock with the server's answer, permissions with the login. */
const DEPENDENTS: ReadonlyArray<readonly [CheckName, CheckName]> = [
  ["server", "clock"],
  ["login", "permissions"],
];

const ok = (name: CheckName, detail: string): Check => ({ name, status: "ok", detail, fix: null });
const problem = (name: CheckName, detail: string, fix: string | null): Check => ({
  name,
  status: "problem",
  detail,
  fix,
});
const skipped = (name: CheckName, needs: CheckName): Check => ({
  name,
  status: "skipped",
  detail: `not checked: the ${needs} check failed`,
  fix: null,
});

/**
 * What a scheduled run of this profile needs, checked the way that run would meet it: the store read as cron
 * reads it, the server and its certificate, the clock, the login (one Light call through the auth session, which
 * renews the pair under the profile's lock exactly as a run does; nothing logs in anew that a run would not),
 * the app's permissions, and `--out` written to. Never prompts; each check is bounded by CHECK_TIMEOUT_MS and
 * Ctrl-C/SIGTERM (which end the command instead of failing a check).
 */
export async function runChecks(ctx: CommandContext, out: string | undefined): Promise<Check[]> {
  const profile = ctx.options.profile;
  const checks: Check[] = [];
  const bounded = async (name: CheckName, work: (signal: AbortSignal) => Promise<Check[]>) => {
    const verdicts = await withinBound(name, ctx.signal, work);
    checks.push(...verdicts);
    // A check cut short gave no verdict for the check that comes with it.
    for (const [needs, dependent] of DEPENDENTS) {
      if (needs === name && !checks.some((c) => c.name === dependent)) checks.push(skipped(dependent, name));
    }
    return verdicts;
  };

  let record: ProfileRecord | undefined;
  const [store] = await bounded("store", async () => {
    const found = await checkStore(ctx, profile);
    record = found.record;
    return [found.check];
  });
  const server =
    record?.credentials.server ??
    ENV_NAMES.server.map((name) => ctx.env[name]).find(Boolean) ??
    DEFAULT_SERVER;
  await bounded("server", (signal) => checkServer(server, signal));
  if (store?.status === "ok") await bounded("login", (signal) => checkLogin(ctx, profile, signal));
  else checks.push(skipped("login", "store"), skipped("permissions", "store"));
  if (out !== undefined)
    await bounded("destination", async (signal) => [await checkDestination(ctx, out, signal)]);
  return checks;
}

/**
 * Run one check under CHECK_TIMEOUT_MS: what it throws is its problem, and a check that ran out of time says so
 * whatever error the cut-off request raised. Ctrl-C and SIGTERM (`stop`) end the command instead.
 */
async function withinBound(
  name: CheckName,
  stop: AbortSignal,
  work: (signal: AbortSignal) => Promise<Check[]>,
): Promise<Check[]> {
  const late = `no answer within ${CHECK_TIMEOUT_MS / 1000} s`;
  // A timer of our own, held until the check ends: an AbortSignal.timeout held only by AbortSignal.any may be
  // collected before it fires.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error(late)), CHECK_TIMEOUT_MS);
  const signal = AbortSignal.any([stop, timeout.signal]);
  // Raced as well: a store read that takes no signal (the keychain, a shared store) is not waited for either.
  const cutOff = new Promise<never>((_, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  const verdicts = await Promise.race([work(signal), cutOff])
    .catch((error: unknown) => [problem(name, messageOf(error), null)])
    .finally(() => clearTimeout(timer));
  if (stop.aborted) throw stop.reason;
  if (!timeout.signal.aborted) return verdicts;
  return verdicts.map((c) =>
    c.status === "problem" && !c.detail.includes(late) ? { ...c, detail: `${c.detail} (${late})` } : c,
  );
}

async function checkStore(
  ctx: CommandContext,
  profile: string,
): Promise<{ check: Check; record?: ProfileRecord }> {
  try {
    const found = await readAsScheduledJob(await ctx.factory.auth(), ctx.env);
    if (!found?.record) {
      return { check: problem("store", `profile "${profile}" is not logged in`, loginCommand(profile)) };
    }
    const { store, record } = found;
    const how = {
      file: "a scheduled job of this user reads it",
      keychain: `a scheduled job reaches its key in the OS keychain through the user's bus at ${userBusPath(ctx.env)}`,
      s3: "a scheduled job reads it with this machine's store key (give the job the same RC_RECORDINGS_STORE_KEY or credential)",
    }[store.kind];
    return { check: ok("store", `${store.kind} store ${store.path}: ${how}`), record };
  } catch (error) {
    if (error instanceof KeychainUnavailableError) {
      const reason = error.cause instanceof KeychainUnavailableError ? error.cause.message : error.message;
      return {
        check: problem(
          "store",
          `a scheduled job (cron: no D-Bus session) cannot open profile "${profile}": ${reason}`,
          `${loginCommand(profile, "file")} (or run the job as a systemd user service with lingering: docs/scheduling.md)`,
        ),
      };
    }
    if (error instanceof WrongStoreKeyError) {
      return {
        check: problem(
          "store",
          error.message,
          "give this machine the store key the other machines use (RC_RECORDINGS_STORE_KEY or $CREDENTIALS_DIRECTORY/rc-recordings-store-key)",
        ),
      };
    }
    if (error instanceof LoginRequiredError) {
      return { check: problem("store", error.reason, loginCommand(profile)) };
    }
    return { check: problem("store", messageOf(error), null) };
  }
}

async function checkServer(server: string, signal: AbortSignal): Promise<Check[]> {
  try {
    const answer = await probeServer(server, { signal, timeoutMs: CHECK_TIMEOUT_MS });
    const how = server.startsWith("https:") ? "over a trusted TLS connection" : "(plain HTTP)";
    const checks = [ok("server", `${server} answered (HTTP ${answer.status}) ${how}`)];
    const skew = answer.clockSkewMs;
    if (skew === undefined) checks.push(ok("clock", "the server sent no Date header; not compared"));
    else {
      const seconds = Math.round(Math.abs(skew) / 1000);
      checks.push(
        Math.abs(skew) <= MAX_CLOCK_SKEW_MS
          ? ok("clock", `within ${Math.max(seconds, 1)} s of the server's`)
          : problem(
              "clock",
              `this machine's clock is ${seconds} s ${skew > 0 ? "behind" : "ahead of"} the server's`,
              "set the clock by NTP (e.g. timedatectl set-ntp true): S3 refuses requests signed 15 min off, and --from/--to and file names follow this clock",
            ),
      );
    }
    return checks;
  } catch (error) {
    const fix =
      error instanceof TlsTrustError
        ? "if your network inspects TLS, give its CA certificate in NODE_EXTRA_CA_CERTS (in the job's environment too)"
        : `check the server URL (${server}: login --server or RC_SERVER_URL) and that this machine reaches it (DNS, proxy, firewall)`;
    return [problem("server", `${server}: ${messageOf(error)}`, fix), skipped("clock", "server")];
  }
}

async function checkLogin(ctx: CommandContext, profile: string, signal: AbortSignal): Promise<Check[]> {
  const status = await tokenStatus(await ctx.factory.auth(), {
    verify: async (tokens) => readOwnExtension(await ctx.factory.api(tokens), signal),
    log: ctx.log,
    signal,
  });
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const refused = status.problem instanceof ApiError && status.problem.status === 403;
  if (status.problem && !refused) {
    const login = status.problem instanceof LoginRequiredError;
    const detail = login ? (status.problem as LoginRequiredError).reason : messageOf(status.problem);
    return [problem("login", detail, login ? loginCommand(profile) : null), skipped("permissions", "login")];
  }
  const expiry =
    status.refreshTokenExpiresAt === null
      ? ""
      : `; refresh token ${describeExpiry(status.refreshTokenExpiresAt, Date.now())}`;
  const checks = [
    ok(
      "login",
      `${refused ? "the server accepts the token" : `the token works (extension ${status.ownerId ?? "?"})`}${expiry}`,
    ),
  ];
  const scope = status.scope ?? "";
  const missing = missingPermissions(scope);
  if (scope === "") checks.push(ok("permissions", "the token names no scope; not compared"));
  else if (missing.length === 0)
    checks.push(ok("permissions", `the app has ${scope.split(/\s+/).join(", ")}`));
  else {
    checks.push(
      problem(
        "permissions",
        `the app lacks ${missing.join(", ")} (the token's scope: ${scope})`,
        `add ${missing.join(", ")} to the app in the RingCentral Developer Console (docs/login-and-tokens.md#create-the-ringcentral-app), then log in anew: ${profileCommand(profile, "token revoke")} && ${loginCommand(profile)}`,
      ),
    );
  }
  return checks;
}

async function checkDestination(ctx: CommandContext, out: string, signal: AbortSignal): Promise<Check> {
  let where = out;
  try {
    const destination = await ctx.factory.destination(out, { signal });
    where = destination.describe();
    await destination.probeWrite();
    return ok("destination", `${where}: writable (a probe written and removed)`);
  } catch (error) {
    const bucket = /^s3:\/\//i.test(out);
    const detail = messageOf(error);
    return problem(
      "destination",
      detail.includes(where) ? detail : `${where}: ${detail}`,
      bucket
        ? "check the bucket and the job's S3 credentials and permissions (list, put and delete objects: docs/s3.md)"
        : "name a folder the job's user may write (--out), or fix the folder's permissions",
    );
  }
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
