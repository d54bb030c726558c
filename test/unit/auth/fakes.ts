import { KeychainUnavailableError } from "../../../src/auth/errors.js";
import type { AppCredentials, ProfileRecord, TokenPair } from "../../../src/auth/profile.js";
import { type LockLease, LockLostError, type ProfileLock } from "../../../src/auth/refresh-lock.js";
import type { KeyVault } from "../../../src/auth/store/keychain.js";
import type { ProfileStore } from "../../../src/auth/store/types.js";
import type { TokenEndpoint } from "../../../src/auth/token-endpoint.js";
import { Logger } from "../../../src/log/logger.js";

export const APP: AppCredentials = {
  server: "https://platform.example.test",
  clientId: "client-id-1",
  clientSecret: "client-secret-abcdef",
  jwt: "jwt-credential-abcdef",
};

let serial = 0;
export function pair(now: number, overrides: Partial<TokenPair> = {}): TokenPair {
  serial += 1;
  return {
    accessToken: `access-token-${serial}-xxxxxxxx`,
    refreshToken: `refresh-token-${serial}-xxxxxxxx`,
    accessTokenExpiresAt: now + 3_600_000,
    refreshTokenExpiresAt: now + 7 * 86_400_000,
    accessTokenTtl: 3600,
    refreshTokenTtl: 604_800,
    scope: "ReadCallLog ReadCallRecording",
    ownerId: "101",
    issuedAt: now,
    ...overrides,
  };
}

export function activeRecord(tokens: TokenPair, credentials: AppCredentials = APP): ProfileRecord {
  return { version: 1, credentials, login: { state: "active", tokens, loggedInAt: tokens.issuedAt } };
}

/** A store in memory that counts writes; `failWrites` makes the next write throw. */
export class MemoryStore implements ProfileStore {
  readonly kind = "file";
  readonly path = "/memory/profile.json";
  writes: ProfileRecord[] = [];
  failWrites = false;
  /** Makes `checkWritable` (and every write) fail, like an unwritable folder. */
  unwritable = false;
  constructor(
    public record: ProfileRecord | undefined,
    readonly profile = "default",
  ) {}
  async read() {
    return this.record === undefined ? undefined : structuredClone(this.record);
  }
  async checkWritable() {
    if (this.unwritable) throw new Error("read-only file system");
  }
  async write(record: ProfileRecord) {
    if (this.unwritable) throw new Error("read-only file system");
    if (this.failWrites) throw new Error("disk full");
    this.record = structuredClone(record);
    this.writes.push(this.record);
  }
  async remove() {
    this.record = undefined;
  }
}

/**
 * A lock within one process that records whether work ever overlapped. `loseNext` makes the next holder's
 * lease report the lock lost (as if another process had taken it over).
 */
export class MemoryLock implements ProfileLock {
  held = false;
  acquisitions = 0;
  loseNext = false;
  private queue: Promise<void> = Promise.resolve();
  async withLock<T>(work: (lease: LockLease) => Promise<T>): Promise<T> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise((r) => {
      release = r;
    });
    await previous;
    this.held = true;
    this.acquisitions += 1;
    const lost = this.loseNext;
    this.loseNext = false;
    const lease: LockLease = {
      assertHeld: () => {
        if (lost) throw new LockLostError("lost the token lock (test)");
      },
    };
    try {
      return await work(lease);
    } finally {
      this.held = false;
      release();
    }
  }
}

type Step<T> = (input: { app: AppCredentials; tokens?: TokenPair }) => Promise<T> | T;

/** A token endpoint scripted per call; counts each kind of request. */
export class FakeEndpoint implements TokenEndpoint {
  jwtGrants = 0;
  refreshGrants = 0;
  revokes: string[] = [];
  refreshedWith: string[] = [];
  onRefresh: Step<TokenPair>;
  onJwt: Step<TokenPair>;
  onRevoke: Step<void> = () => undefined;
  constructor(private readonly now: () => number) {
    this.onRefresh = () => pair(this.now());
    this.onJwt = () => pair(this.now());
  }
  async jwtGrant(app: AppCredentials) {
    this.jwtGrants += 1;
    return this.onJwt({ app });
  }
  async refreshGrant(app: AppCredentials, tokens: TokenPair) {
    this.refreshGrants += 1;
    this.refreshedWith.push(tokens.refreshToken);
    await new Promise((r) => setTimeout(r, 5)); // a real round trip lets concurrent callers pile up
    return this.onRefresh({ app, tokens });
  }
  async revoke(_app: AppCredentials, token: string) {
    this.revokes.push(token);
    await this.onRevoke({ app: _app });
  }
}

export class MemoryVault implements KeyVault {
  keys = new Map<string, Buffer>();
  unavailable = false;
  async get(account: string) {
    this.check();
    return this.keys.get(account) ?? null;
  }
  async set(account: string, key: Buffer) {
    this.check();
    this.keys.set(account, Buffer.from(key));
  }
  async delete(account: string) {
    this.check();
    this.keys.delete(account);
  }
  private check() {
    if (this.unavailable) throw new KeychainUnavailableError("the OS keychain is not reachable (test)");
  }
}

/** A logger whose lines can be inspected. */
export function memoryLogger(verbosity: "quiet" | "normal" | "verbose" = "verbose") {
  const lines: string[] = [];
  const log = new Logger(verbosity, { write: (text: string) => lines.push(...text.trimEnd().split("\n")) });
  return { log, lines };
}
