import { serverUrlProblem } from "../api/hosts.js";
import { registerClientCredentials, registerSecret } from "../log/redact.js";

/** What `login` needs to obtain a pair, and what unattended runs need to recover one (stored with the pair). */
export interface AppCredentials {
  /** API origin without a trailing slash, e.g. "https://platform.ringcentral.com". */
  server: string;
  clientId: string;
  clientSecret: string;
  jwt: string;
}

/** One token pair as the token endpoint granted it. Times are epoch milliseconds. */
export interface TokenPair {
  accessToken: string;
  accessTokenExpiresAt: number;
  refreshToken: string;
  refreshTokenExpiresAt: number;
  /** Lifetimes (s) the server granted; a refresh asks for them again (and never for -1). */
  accessTokenTtl: number;
  refreshTokenTtl: number;
  scope: string;
  ownerId: string;
  endpointId?: string;
  sessionId?: string;
  issuedAt: number;
}

/**
 * The login of a profile. `ended` keeps the app credentials but forbids any silent re-login: after `token revoke`
 * (or when both the refresh token and the JWT were rejected) only an explicit `login` starts a new session.
 */
export type LoginState =
  | { state: "active"; tokens: TokenPair; loggedInAt: number; lastRefreshAt?: number }
  | { state: "ended"; reason: "revoked" | "rejected"; endedAt: number };

/** Everything a store keeps for one profile. */
export interface ProfileRecord {
  version: 1;
  credentials: AppCredentials;
  login: LoginState;
}

/** Thrown by the parser; stores turn it into a user-facing "corrupt store" error naming the file. */
export class InvalidRecordError extends Error {}

/** Validate what a store read back: anything but the exact shape is treated as corruption, never guessed at. */
export function parseProfileRecord(raw: unknown): ProfileRecord {
  const root = object(raw, "record");
  if (root.version !== 1) throw new InvalidRecordError(`unsupported record version ${String(root.version)}`);
  const creds = object(root.credentials, "credentials");
  const credentials: AppCredentials = {
    server: serverUrl(creds.server),
    clientId: text(creds.clientId, "credentials.clientId"),
    clientSecret: text(creds.clientSecret, "credentials.clientSecret"),
    jwt: text(creds.jwt, "credentials.jwt"),
  };
  const login = object(root.login, "login");
  const record: ProfileRecord = { version: 1, credentials, login: parseLogin(login) };
  registerRecordSecrets(record);
  return record;
}

function parseLogin(login: Record<string, unknown>): LoginState {
  if (login.state === "ended") {
    const reason = login.reason;
    if (reason !== "revoked" && reason !== "rejected")
      throw new InvalidRecordError("login.reason is invalid");
    return { state: "ended", reason, endedAt: time(login.endedAt, "login.endedAt") };
  }
  if (login.state !== "active") throw new InvalidRecordError("login.state is invalid");
  const t = object(login.tokens, "login.tokens");
  const tokens: TokenPair = {
    accessToken: text(t.accessToken, "tokens.accessToken"),
    accessTokenExpiresAt: time(t.accessTokenExpiresAt, "tokens.accessTokenExpiresAt"),
    refreshToken: text(t.refreshToken, "tokens.refreshToken"),
    refreshTokenExpiresAt: time(t.refreshTokenExpiresAt, "tokens.refreshTokenExpiresAt"),
    accessTokenTtl: seconds(t.accessTokenTtl, "tokens.accessTokenTtl"),
    refreshTokenTtl: seconds(t.refreshTokenTtl, "tokens.refreshTokenTtl"),
    scope: typeof t.scope === "string" ? t.scope : "",
    ownerId: typeof t.ownerId === "string" ? t.ownerId : "",
    issuedAt: time(t.issuedAt, "tokens.issuedAt"),
    ...(typeof t.endpointId === "string" ? { endpointId: t.endpointId } : {}),
    ...(typeof t.sessionId === "string" ? { sessionId: t.sessionId } : {}),
  };
  return {
    state: "active",
    tokens,
    loggedInAt: time(login.loggedInAt, "login.loggedInAt"),
    ...(login.lastRefreshAt === undefined
      ? {}
      : { lastRefreshAt: time(login.lastRefreshAt, "login.lastRefreshAt") }),
  };
}

/** Every secret that enters the process is registered with the redactor the moment it is read. */
function registerRecordSecrets(record: ProfileRecord): void {
  registerClientCredentials(record.credentials.clientId, record.credentials.clientSecret);
  registerSecret(record.credentials.jwt);
  if (record.login.state === "active") registerTokenSecrets(record.login.tokens);
}

export function registerTokenSecrets(tokens: TokenPair): void {
  registerSecret(tokens.accessToken);
  registerSecret(tokens.refreshToken);
}

/** The pair's refresh token is still alive by its expiry time (the server may still reject it). */
export function refreshTokenAlive(tokens: TokenPair, now: number): boolean {
  return tokens.refreshTokenExpiresAt > now;
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidRecordError(`${name} is missing or not an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value.length === 0) throw new InvalidRecordError(`${name} is missing`);
  return value;
}

function num(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isFinite(value))
    throw new InvalidRecordError(`${name} is not a number`);
  return value;
}

/** The latest moment a JS Date can hold (ms since 1970): a time past it prints as "Invalid time value". */
const MAX_DATE_MS = 8.64e15;

/** A moment as epoch ms that a Date can show: what the store wrote, never 1e300 or a negative time. */
function time(value: unknown, name: string): number {
  const ms = num(value, name);
  if (ms < 0 || ms > MAX_DATE_MS) throw new InvalidRecordError(`${name} is not a valid time`);
  return ms;
}

/** A lifetime in seconds: positive and at most ten years (the store clamps what it receives far below that). */
function seconds(value: unknown, name: string): number {
  const s = num(value, name);
  if (s <= 0 || s > 10 * 366 * 24 * 3600) throw new InvalidRecordError(`${name} is not a valid lifetime`);
  return s;
}

/** The server as `--server` would accept it (the same rule: hosts.ts), so a tampered store sends nothing. */
function serverUrl(value: unknown): string {
  const server = text(value, "credentials.server");
  const problem = serverUrlProblem(server);
  if (problem) throw new InvalidRecordError(`credentials.server ${JSON.stringify(server)} ${problem}`);
  return server;
}
