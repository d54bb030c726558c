import { readOwnExtension } from "../api/extension-info.js";
import { type TokenStatus, tokenStatus } from "../auth/status.js";
import type { CommandContext } from "../context.js";
import { describeExpiry, relative } from "../ui/format.js";

/** `token status [--verify]`: what is stored for the profile; exit 0 usable, 4 not logged in, 1 other errors. */
export async function runTokenStatus(ctx: CommandContext, options: { verify?: boolean }): Promise<void> {
  const status = await tokenStatus(await ctx.factory.auth(), {
    verify: options.verify
      ? async (tokens) => readOwnExtension(await ctx.factory.api(tokens), ctx.signal)
      : undefined,
    log: ctx.log,
    signal: ctx.signal,
  });
  if (ctx.options.json) ctx.printJson(statusJson(status));
  else ctx.print(statusLines(status, Date.now()).join("\n"));
  if (status.problem) throw status.problem;
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

/** The documented `--json` fields, exactly. */
function statusJson(s: TokenStatus) {
  return {
    profile: s.profile,
    server: s.server,
    store: s.store,
    loggedIn: s.loggedIn,
    ownerId: s.ownerId,
    scope: s.scope,
    accessTokenExpiresAt: iso(s.accessTokenExpiresAt),
    refreshTokenExpiresAt: iso(s.refreshTokenExpiresAt),
    verified: s.verified,
    // Why `--verify` met a 401 (OAU-213 ...), when it did: rotated-elsewhere | session-ended |
    // access-token-rejected | login-gone.
    cause: s.recovery?.cause ?? null,
    hint: s.recovery?.hint ?? null,
  };
}

function statusLines(s: TokenStatus, now: number): string[] {
  const lines = [`profile:        ${s.profile}`, `logged in:      ${s.loggedIn ? "yes" : "no"}`];
  if (s.server) lines.push(`server:         ${s.server}`);
  if (s.store) lines.push(`store:          ${s.store} (${s.storePath})`);
  if (s.ownerId) lines.push(`owner (ext.):   ${s.ownerId}`);
  if (s.scope) lines.push(`scope:          ${s.scope}`);
  if (s.accessTokenExpiresAt !== null)
    lines.push(`access token:   ${describeExpiry(s.accessTokenExpiresAt, now)}`);
  if (s.refreshTokenExpiresAt !== null)
    lines.push(`refresh token:  ${describeExpiry(s.refreshTokenExpiresAt, now)}`);
  if (s.loggedInAt !== null)
    lines.push(`logged in at:   ${iso(s.loggedInAt)} (${relative(s.loggedInAt, now)})`);
  if (s.loggedInAt !== null) {
    lines.push(
      `last refresh:   ${s.lastRefreshAt === null ? "never" : `${iso(s.lastRefreshAt)} (${relative(s.lastRefreshAt, now)})`}`,
    );
  }
  if (s.verified !== null) lines.push(`verified:       ${s.verified ? "yes (API call succeeded)" : "no"}`);
  if (s.recovery) {
    lines.push(`last 401:       ${s.recovery.message}`);
    lines.push(`hint:           ${s.recovery.hint}`);
  }
  return lines;
}
