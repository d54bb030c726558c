import type { IncomingMessage, ServerResponse } from "node:http";
import { MatchCache } from "./call-log.js";
import { Dataset, type RecordingInfo } from "./dataset.js";
import { FaultPlan } from "./faults.js";
import { type ApiErrorSpec, type HeaderBag, sendError } from "./http-util.js";
import { LiveCallLog } from "./live-call-log.js";
import { CallMaker } from "./live-calls.js";
import {
  APP_PERMISSIONS,
  type AppPermission,
  type EmulatorConfig,
  type EmulatorExtension,
  type RateLimitGroup,
  type RecordingSettings,
} from "./options.js";
import { type RateDecision, RateLimiter } from "./rate-limit.js";
import { Retention } from "./retention.js";
import { type Session, SessionStore } from "./sessions.js";
import { EmulatorStats } from "./stats.js";
import { WsGateway } from "./ws-gateway.js";

/** Everything both origins share: one platform, two entry points. */
export class EmulatorState {
  readonly sessions: SessionStore;
  readonly limiter: RateLimiter;
  readonly faults: FaultPlan;
  readonly stats: EmulatorStats;
  readonly dataset: Dataset;
  readonly deleted: Set<string>;
  /** Compressed-time retention: the oldest recordings disappear one by one. */
  readonly retention: Retention;
  /** The account's call-recording settings (`control.setRecordingSettings` changes them). */
  recordingSettings: RecordingSettings;
  /** recordingId → foreign origin of its contentUri. */
  readonly foreign = new Map<string, string>();
  readonly callLogMatches = new MatchCache();
  /** Calls made while the emulator runs (`control.startCalls`): records -1, -2… in front of the dataset. */
  readonly liveCalls = new LiveCallLog();
  /** The extensions calls belong to (the first user's first); the directory lists those still `listed`. */
  readonly companyExtensions: readonly EmulatorExtension[];
  /** The WebSocket gateway (on the API origin) and the calls it tells about. */
  readonly gateway: WsGateway = new WsGateway(this);
  readonly callMaker: CallMaker = new CallMaker(this, (event) => this.gateway.publish(event));
  /** Set once both servers listen. */
  apiOrigin = "";
  mediaOrigin = "";
  /** Where `redirectContent` sends content requests (presigned URLs, no token). */
  cdnOrigin = "";

  constructor(readonly config: EmulatorConfig) {
    this.sessions = new SessionStore(config.tokens);
    this.limiter = new RateLimiter(config.rateLimits);
    this.faults = new FaultPlan(config.faults);
    this.stats = new EmulatorStats(() => this.sessions.liveCount);
    const owner = config.users[0];
    if (!owner) throw new Error("at least one user is required");
    this.companyExtensions = [
      { id: owner.ownerId, extensionNumber: owner.extensionNumber, name: owner.name },
      ...config.dataset.extensions,
    ];
    this.dataset = new Dataset(config.dataset, this.companyExtensions, this.liveCalls);
    this.deleted = new Set(config.dataset.deletedRecordingIds);
    this.recordingSettings = config.dataset.recordingSettings;
    this.retention = new Retention(
      config.dataset.retention,
      this.dataset,
      () => this.recordingSettings.retentionPeriod,
    );
    const foreign = config.dataset.foreignContent;
    for (const id of foreign?.recordingIds ?? [])
      this.foreign.set(id, foreign?.origin.replace(/\/+$/, "") ?? "");
  }

  /** The account's extension directory: every user, and every company extension that is still listed. */
  directory(): EmulatorExtension[] {
    const entries = new Map<string, EmulatorExtension>();
    for (const extension of this.companyExtensions) {
      if (extension.listed !== false) entries.set(extension.id, extension);
    }
    for (const user of this.config.users) {
      if (!entries.has(user.ownerId)) {
        entries.set(user.ownerId, {
          id: user.ownerId,
          extensionNumber: user.extensionNumber,
          name: user.name,
        });
      }
    }
    return [...entries.values()];
  }

  /**
   * A recording that can be served: it exists already (a live call's appears with its call-log record) and is
   * neither deleted nor gone with retention.
   */
  liveRecording(id: string): RecordingInfo | undefined {
    if (this.deleted.has(id)) return undefined;
    const recording = this.dataset.recording(id);
    if (!recording || !this.dataset.hasAppeared(recording.index)) return undefined;
    return this.retention.isExpired(recording.index) ? undefined : recording;
  }

  /** Whether a user's token may see this account's data (users of another account see none of it). */
  ownAccountOf(user: { accountId: string }): boolean {
    return user.accountId === this.config.accountId;
  }

  recordingUri(id: string): string {
    return `${this.apiOrigin}/restapi/v1.0/account/${this.config.accountId}/recording/${id}`;
  }

  contentUri(id: string): string {
    const origin = this.foreign.get(id) ?? this.mediaOrigin;
    return `${origin}/restapi/v1.0/account/${this.config.accountId}/recording/${id}/content`;
  }

  /**
   * Rate-limit then authenticate a bearer request. Requests are charged to the (user, app) of the token's
   * session even when the token is no longer valid; requests without a known token share an "anonymous"
   * bucket. Returns the session and the headers to send, or undefined after answering 429/401 itself.
   */
  authorize(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    group: RateLimitGroup,
    /** The app permission the endpoint needs (the spec's `x-app-permission`): 403 CMN-401 without it. */
    permission?: AppPermission,
  ): { session: Session; headers: HeaderBag } | undefined {
    const credential = readBearer(req, url);
    const token = credential.kind === "token" ? credential.token : undefined;
    const owner = token === undefined ? undefined : this.sessions.sessionOf(token);
    const headers = this.charge(owner ? this.bucketOf(owner) : "anonymous", group, res);
    if (!headers) return undefined;
    if (credential.kind !== "token") {
      this.unauthorized(res, headers, credential.kind === "missing" ? MISSING_AUTH : BAD_AUTH_HEADER);
      return undefined;
    }
    const check = this.sessions.checkAccess(credential.token);
    if (!check.ok) {
      this.unauthorized(res, headers, {
        status: 401,
        errorCode: check.errorCode,
        message: check.message,
        legacyCode: check.errorCode === "OAU-128" ? "TokenExpired" : "TokenInvalid",
      });
      return undefined;
    }
    if (permission && lacksPermission(check.session, permission)) {
      sendError(res, missingAppPermission(permission), headers);
      return undefined;
    }
    return { session: check.session, headers };
  }

  /** Count a request against a bucket (and in the stats); the caller answers a refusal. */
  take(key: string, group: RateLimitGroup): RateDecision {
    this.stats.requestsByGroup[group]++;
    const decision = this.limiter.take(key, group);
    if (!decision.allowed) {
      this.stats.rateLimited++;
      this.stats.rateLimitedByGroup[group]++;
    }
    return decision;
  }

  /** The rate-limit bucket of a session's user and app. */
  bucketOf(session: Session): string {
    return `${session.user.ownerId}|${session.app.clientId}`;
  }

  /** Count a request against a bucket; answers 429 itself and returns undefined when over the limit. */
  charge(key: string, group: RateLimitGroup, res: ServerResponse): HeaderBag | undefined {
    const decision = this.take(key, group);
    if (decision.allowed) return decision.headers;
    sendError(res, { status: 429, errorCode: "CMN-301", message: "Request rate exceeded" }, decision.headers);
    return undefined;
  }

  private unauthorized(res: ServerResponse, headers: HeaderBag, spec: ApiErrorSpec): void {
    this.stats.countUnauthorized(spec.errorCode);
    sendError(res, spec, headers);
  }
}

/** The session's app was not granted `permission` (the token's scope does not name it). */
export function lacksPermission(session: Session, permission: AppPermission): boolean {
  return !(session.app.permissions ?? APP_PERMISSIONS).includes(permission);
}

/** The platform's answer to an app that was not granted the permission an endpoint needs. */
export function missingAppPermission(permission: AppPermission): ApiErrorSpec {
  return {
    status: 403,
    errorCode: "CMN-401",
    legacyCode: "InsufficientPermissions",
    message: `In order to call this API endpoint, application needs to have [${permission}] permission.`,
    details: { permissionName: permission },
    topLevel: { permissionName: permission },
  };
}

const MISSING_AUTH: ApiErrorSpec = {
  status: 401,
  errorCode: "AGW-401",
  message: "Authorization header is not specified",
};

const BAD_AUTH_HEADER: ApiErrorSpec = {
  status: 401,
  errorCode: "OAU-151",
  message: "Authorization method not supported",
};

type BearerCredential = { kind: "token"; token: string } | { kind: "missing" } | { kind: "malformed" };

/** `Authorization: Bearer x` (scheme case-insensitive: the JS SDK sends "bearer") or `?access_token=x`. */
function readBearer(req: IncomingMessage, url: URL): BearerCredential {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ? { kind: "token", token: match[1] } : { kind: "malformed" };
  }
  const query = url.searchParams.get("access_token");
  return query ? { kind: "token", token: query } : { kind: "missing" };
}
