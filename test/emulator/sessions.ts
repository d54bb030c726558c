import { randomBytes } from "node:crypto";
import { APP_PERMISSIONS, type EmulatorApp, type EmulatorUser, type TokenPolicy } from "./options.js";

export type DeathReason = "revoked" | "evicted" | "killed";

interface TokenPair {
  accessToken: string;
  refreshToken: string;
  issuedAt: number;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** First successful API/media use of the access token (starts the old refresh token's 10 s grace). */
  firstUsedAt: number | undefined;
}

export interface Session {
  id: string;
  endpointId: string;
  user: Required<EmulatorUser>;
  app: EmulatorApp;
  createdAt: number;
  dead: DeathReason | undefined;
  current: TokenPair;
  /** The refresh token replaced by the last rotation, honoured for a grace period with the SAME new pair. */
  previous: { pair: TokenPair; rotatedAt: number } | undefined;
}

interface AccessRecord {
  session: Session;
  pair: TokenPair;
  /** When a refresh replaced this token: OAU-129 for corruptedPhaseMs, then OAU-213. */
  rotatedAt: number | undefined;
  /** killAccessTokens(): dead (OAU-213) while the session and its refresh token live. */
  killed: boolean;
}

/** Outcome of checking a bearer token; failures carry the 401 code and, when known, the session. */
export type AccessCheck =
  | { ok: true; session: Session }
  | {
      ok: false;
      errorCode: "OAU-213" | "OAU-129" | "OAU-128";
      message: string;
      session: Session | undefined;
    };

export type GrantResult =
  | { ok: true; session: Session; pair: TokenPair }
  | { ok: false; errorCode: "OAU-210" | "OAU-211"; message: string };

export interface TokenTtls {
  /** Seconds, already clamped. */
  access: number;
  refresh: number;
}

function newToken(): string {
  // Opaque, URL-safe, long like the real ones.
  return randomBytes(48).toString("base64url");
}

/**
 * Sessions and tokens with RingCentral's rotation rules (see README): refresh tokens are single-use, a refresh
 * kills the old access token (OAU-129 then OAU-213), the old refresh token may be replayed during a grace
 * period and returns the same new pair, and at most `maxSessions` live sessions per user+app (the oldest is
 * evicted by a new login).
 */
export class SessionStore {
  private readonly sessions: Session[] = [];
  private readonly accessTokens = new Map<string, AccessRecord>();
  private readonly refreshTokens = new Map<string, Session>();
  private sequence = 0;

  constructor(private readonly policy: TokenPolicy) {}

  /** Every access and refresh token ever issued (tests: prove none of them is ever printed). */
  issuedTokens(): string[] {
    return [...this.accessTokens.keys(), ...this.refreshTokens.keys()];
  }

  get liveCount(): number {
    return this.sessions.filter((s) => !s.dead).length;
  }

  /** Clamp a requested access_token_ttl; absent or unparsable → the default. */
  accessTtl(requested: number | undefined): number {
    const p = this.policy;
    if (requested === undefined || Number.isNaN(requested)) return p.accessTokenTtl;
    return Math.min(p.maxAccessTokenTtl, Math.max(p.minAccessTokenTtl, Math.trunc(requested)));
  }

  refreshTtl(requested: number | undefined): number {
    const p = this.policy;
    if (requested === undefined || Number.isNaN(requested) || requested <= 0) return p.refreshTokenTtl;
    return Math.min(p.maxRefreshTokenTtl, Math.trunc(requested));
  }

  login(user: Required<EmulatorUser>, app: EmulatorApp, ttls: TokenTtls, now = Date.now()): Session {
    const live = this.sessions.filter(
      (s) => !s.dead && s.user.ownerId === user.ownerId && s.app.clientId === app.clientId,
    );
    // Oldest first: evict until the new session fits.
    for (let i = 0; i <= live.length - this.policy.maxSessions; i++) {
      const victim = live[i];
      if (victim) victim.dead = "evicted";
    }
    this.sequence++;
    const session: Session = {
      id: `emu-session-${this.sequence}`,
      endpointId: `emu-endpoint-${this.sequence}`,
      user,
      app,
      createdAt: now,
      dead: undefined,
      current: this.issue(ttls, now),
      previous: undefined,
    };
    this.sessions.push(session);
    this.register(session, session.current);
    return session;
  }

  refresh(refreshToken: string, app: EmulatorApp, ttls: TokenTtls, now = Date.now()): GrantResult {
    const session = this.refreshTokens.get(refreshToken);
    const revoked = { ok: false, errorCode: "OAU-211", message: "Token revoked" } as const;
    const expired = { ok: false, errorCode: "OAU-210", message: "Token expired" } as const;
    if (!session || session.dead || session.app.clientId !== app.clientId) return revoked;
    if (session.current.refreshToken === refreshToken) {
      if (now >= session.current.refreshExpiresAt) return expired;
      const old = session.current;
      const oldAccess = this.accessTokens.get(old.accessToken);
      if (oldAccess) oldAccess.rotatedAt = now;
      if (session.previous) this.refreshTokens.delete(session.previous.pair.refreshToken);
      session.previous = { pair: old, rotatedAt: now };
      session.current = this.issue(ttls, now);
      this.register(session, session.current);
      return { ok: true, session, pair: session.current };
    }
    const previous = session.previous;
    if (previous?.pair.refreshToken === refreshToken) {
      if (now >= previous.pair.refreshExpiresAt) return expired;
      const usedAt = session.current.firstUsedAt;
      const graceEnd =
        usedAt === undefined
          ? previous.rotatedAt + this.policy.refreshGraceUnusedMs
          : usedAt + this.policy.refreshGraceAfterUseMs;
      if (now < graceEnd) return { ok: true, session, pair: session.current };
    }
    return revoked;
  }

  /** Check a bearer token; a successful check counts as the token's first use. */
  checkAccess(token: string, now = Date.now(), markUse = true): AccessCheck {
    const record = this.accessTokens.get(token);
    const notFound = (session?: Session): AccessCheck => ({
      ok: false,
      errorCode: "OAU-213",
      message: "Token not found",
      session,
    });
    if (!record) return notFound();
    const { session, pair } = record;
    if (session.dead) return notFound(session);
    if (record.rotatedAt !== undefined) {
      return now - record.rotatedAt < this.policy.corruptedPhaseMs
        ? { ok: false, errorCode: "OAU-129", message: "Access token corrupted", session }
        : notFound(session);
    }
    if (record.killed) return notFound(session);
    if (now >= pair.accessExpiresAt) {
      return { ok: false, errorCode: "OAU-128", message: "Access token expired", session };
    }
    if (markUse && pair.firstUsedAt === undefined) pair.firstUsedAt = now;
    return { ok: true, session };
  }

  /** The session a token (access or refresh, live or not) belongs to: rate limits are charged to it. */
  sessionOf(token: string): Session | undefined {
    return this.accessTokens.get(token)?.session ?? this.refreshTokens.get(token);
  }

  /** Revoke the whole session of an access or refresh token; false if the token is unknown. */
  revoke(token: string): boolean {
    const session = this.sessionOf(token);
    if (!session) return false;
    session.dead ??= "revoked";
    return true;
  }

  expireAccessTokens(now = Date.now()): void {
    for (const s of this.live()) s.current.accessExpiresAt = now;
  }

  killAccessTokens(): void {
    for (const s of this.live()) {
      const record = this.accessTokens.get(s.current.accessToken);
      if (record) record.killed = true;
    }
  }

  killSessions(): void {
    for (const s of this.live()) s.dead = "killed";
  }

  expireRefreshTokens(now = Date.now()): void {
    for (const s of this.live()) {
      s.current.refreshExpiresAt = now;
      if (s.previous) s.previous.pair.refreshExpiresAt = now;
    }
  }

  private live(): Session[] {
    return this.sessions.filter((s) => !s.dead);
  }

  private issue(ttls: TokenTtls, now: number): TokenPair {
    return {
      accessToken: newToken(),
      refreshToken: newToken(),
      issuedAt: now,
      accessExpiresAt: now + ttls.access * 1000,
      refreshExpiresAt: now + ttls.refresh * 1000,
      firstUsedAt: undefined,
    };
  }

  private register(session: Session, pair: TokenPair): void {
    this.accessTokens.set(pair.accessToken, { session, pair, rotatedAt: undefined, killed: false });
    this.refreshTokens.set(pair.refreshToken, session);
  }
}

/** The TokenInfo body of a successful grant; lifetimes are what is LEFT, like the platform's. */
export function tokenInfo(session: Session, pair: TokenPair, now = Date.now()) {
  return {
    access_token: pair.accessToken,
    token_type: "bearer",
    expires_in: Math.max(0, Math.round((pair.accessExpiresAt - now) / 1000)),
    refresh_token: pair.refreshToken,
    refresh_token_expires_in: Math.max(0, Math.round((pair.refreshExpiresAt - now) / 1000)),
    ...(session.app.namesScope === false
      ? {}
      : { scope: (session.app.permissions ?? APP_PERMISSIONS).join(" ") }),
    owner_id: session.user.ownerId,
    endpoint_id: session.endpointId,
    session_id: session.id,
  };
}
