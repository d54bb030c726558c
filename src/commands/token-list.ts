import { type TokenStatus, tokenStatus } from "../auth/status.js";
import { storedProfiles } from "../auth/store/select.js";
import { loadConfig } from "../config/resolve.js";
import type { CommandContext } from "../context.js";
import { describeExpiry } from "../ui/format.js";

/** One profile as `token list` shows it: where it lives and whether a login is stored; never a secret. */
interface ListedProfile {
  profile: string;
  store: TokenStatus["store"];
  server: string | null;
  loggedIn: boolean;
  refreshTokenExpiresAt: number | null;
  /** Why it is not usable (not logged in, revoked, expired, the store unreachable); null when it is. */
  problem: string | null;
}

/**
 * `token list`: every profile the store holds (or, with `--store s3://…`, the shared store), and the profiles the
 * config file names, each read without a network request. A profile that cannot be read (the keychain does not
 * answer) is a row with its problem, never the end of the list; exit 0.
 */
export async function runTokenList(ctx: CommandContext, _options: Record<string, unknown>): Promise<void> {
  const names = new Set(await storedProfiles((await ctx.factory.auth()).location));
  for (const name of Object.keys((await loadConfig(ctx.env))?.profiles ?? {})) names.add(name);
  const rows: ListedProfile[] = [];
  for (const profile of [...names].sort()) rows.push(await listed(ctx, profile));
  if (ctx.options.json) {
    ctx.printJson({
      profiles: rows.map((row) => ({
        ...row,
        refreshTokenExpiresAt:
          row.refreshTokenExpiresAt === null ? null : new Date(row.refreshTokenExpiresAt).toISOString(),
      })),
    });
    return;
  }
  if (rows.length === 0) {
    ctx.log.info("no profile is stored yet; log in with: rc-recordings login");
    return;
  }
  const now = Date.now();
  const table = [
    ["PROFILE", "STORE", "SERVER", "LOGGED IN", "REFRESH TOKEN"],
    ...rows.map((row) => [
      row.profile,
      row.store ?? "-",
      row.server ?? "-",
      row.loggedIn ? "yes" : "no",
      row.problem ??
        (row.refreshTokenExpiresAt === null ? "-" : describeExpiry(row.refreshTokenExpiresAt, now)),
    ]),
  ];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((cells) => (cells[i] ?? "").length))) ?? [];
  ctx.print(
    table
      .map((cells) =>
        cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  "),
      )
      .join("\n"),
  );
}

async function listed(ctx: CommandContext, profile: string): Promise<ListedProfile> {
  try {
    const status = await tokenStatus(await ctx.factory.auth(profile), {
      verify: undefined,
      log: ctx.log,
      signal: ctx.signal,
    });
    return {
      profile,
      store: status.store,
      server: status.server,
      loggedIn: status.loggedIn,
      refreshTokenExpiresAt: status.refreshTokenExpiresAt,
      problem: status.problem ? reasonOf(status.problem) : null,
    };
  } catch (error) {
    // The store exists but cannot be read now (keychain, bucket): the row says why.
    return {
      profile,
      store: null,
      server: null,
      loggedIn: false,
      refreshTokenExpiresAt: null,
      problem: reasonOf(error),
    };
  }
}

/** The reason without the "; run: …" hint (each row would repeat it). */
function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === "string") return reason;
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}
