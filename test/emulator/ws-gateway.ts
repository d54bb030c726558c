import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { type ApiErrorSpec, errorBody, sendJson } from "./http-util.js";
import type { TelephonyEvent } from "./live-calls.js";
import type { WebSocketConfig } from "./options.js";
import type { Session } from "./sessions.js";
import type { EmulatorState } from "./state.js";

/** The gateway's path on the API origin: `uri` of POST /restapi/oauth/wstoken. */
export const WS_PATH = "/ws";

const SUBSCRIPTION_PATH = /^\/restapi\/v1\.0\/subscription\/?$/;
const SUBSCRIPTION_ITEM = /^\/restapi\/v1\.0\/subscription\/([^/]+)$/;
/** Account-level or extension-level telephony sessions (`~` = the caller's own account / extension). */
const TELEPHONY_FILTER = /^\/restapi\/v1\.0\/account\/(~|\d+)(?:\/extension\/(~|\d+))?\/telephony\/sessions$/;
/** Subscriptions per user and app (the platform's limit). */
const MAX_SUBSCRIPTIONS = 30;

type Meta = Record<string, unknown> & { type: string };
type Message = [Meta, unknown?];

interface Subscription {
  id: string;
  creationTime: string;
  eventFilters: string[];
  /** Parsed filters: `undefined` extension = the whole account. */
  scopes: { extensionId: string | undefined }[];
}

/** What `wsc` recovers: the subscriptions of one connection, and what it missed while it was gone. */
interface WsSession {
  wscToken: string;
  /** Sequence of the last message that carried this session's `wsc`. */
  sequence: number;
  /** The OAuth session whose ws token opened it (recovery from another OAuth session fails). */
  auth: Session;
  subscriptions: Map<string, Subscription>;
  socket: WebSocket | undefined;
  disconnectedAt: number | undefined;
  /** ServerNotifications produced while disconnected (at most recoveryBufferSize, the newest). */
  missed: Message[];
}

/**
 * The WebSocket gateway (spec §10): ws tokens, ConnectionDetails, subscriptions over ClientRequest,
 * telephony-session ServerNotifications, Heartbeat messages and ping frames, idle/absolute timeouts, recovery
 * with `wsc`. It shares the API origin's HTTP(S) server (`upgrade` on `/ws`), so `--tls` makes it `wss://`.
 */
export class WsGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  private readonly tokens = new Map<string, { auth: Session; expiresAt: number }>();
  private readonly sessions = new Map<string, WsSession>();
  private readonly connections = new Set<WebSocket>();
  /** Switch: false = calls still happen, their events are neither sent nor buffered. */
  eventsEnabled = true;

  constructor(private readonly state: EmulatorState) {}

  private get config(): WebSocketConfig {
    return this.state.config.webSocket;
  }

  /** POST /restapi/oauth/wstoken: Auth group, charged to the caller's user and app; bearer only. */
  handleTokenRequest(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const auth = this.state.authorize(req, res, url, "auth");
    if (!auth) return;
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    this.tokens.set(token, { auth: auth.session, expiresAt: now + this.config.tokenTtlSec * 1000 });
    for (const [key, value] of this.tokens) if (value.expiresAt <= now) this.tokens.delete(key);
    this.state.stats.ws.tokens++;
    const origin = new URL(this.state.apiOrigin);
    origin.protocol = origin.protocol === "https:" ? "wss:" : "ws:";
    sendJson(
      res,
      200,
      { uri: `${origin.origin}${WS_PATH}`, ws_access_token: token, expires_in: this.config.tokenTtlSec },
      auth.headers,
    );
  }

  /** The API server's `upgrade` event. A bad ws token is refused before the handshake (HTTP 401). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", this.state.apiOrigin);
    if (url.pathname !== WS_PATH) {
      refuse(socket, 404, NO_SUCH_PATH);
      return;
    }
    const token = this.tokens.get(url.searchParams.get("access_token") ?? "");
    const now = Date.now();
    const refusal =
      token === undefined || token.expiresAt <= now
        ? WS_TOKEN_INVALID
        : token.auth.dead !== undefined
          ? SESSION_GONE
          : undefined;
    if (refusal || !token) {
      this.state.stats.ws.refused++;
      refuse(socket, 401, refusal ?? WS_TOKEN_INVALID);
      return;
    }
    const wsc = url.searchParams.get("wsc") ?? undefined;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, token.auth, wsc));
  }

  /** Telephony events from the call maker: to every matching subscription, live or buffered for recovery. */
  publish(event: TelephonyEvent): void {
    if (!this.eventsEnabled) return;
    this.prune(Date.now());
    for (const session of this.sessions.values()) {
      for (const subscription of session.subscriptions.values()) {
        const scope = subscription.scopes.find((s) => matchesScope(s, session.auth, event, this.state));
        if (!scope) continue;
        const eventPath =
          scope.extensionId === undefined
            ? `/restapi/v1.0/account/${this.state.config.accountId}/telephony/sessions`
            : `/restapi/v1.0/account/${this.state.config.accountId}/extension/${scope.extensionId}/telephony/sessions`;
        const message: Message = [
          { type: "ServerNotification", messageId: randomUUID(), status: 200, wsc: this.nextWsc(session) },
          {
            uuid: randomUUID(),
            event: eventPath,
            timestamp: new Date().toISOString(),
            subscriptionId: subscription.id,
            ownerId: session.auth.user.ownerId,
            body: event.body,
          },
        ];
        if (session.socket) {
          this.state.stats.ws.notificationsSent++;
          send(session.socket, message);
        } else {
          this.state.stats.ws.notificationsBuffered++;
          session.missed.push(message);
          if (session.missed.length > this.config.recoveryBufferSize) session.missed.shift();
        }
      }
    }
  }

  /** Switch: drop every open connection at once, without a close frame (the network went away). */
  dropConnections(): number {
    const count = this.connections.size;
    for (const ws of this.connections) ws.terminate();
    return count;
  }

  /** Open connections and ws sessions still recoverable. */
  status(): { open: number; sessions: number; subscriptions: number } {
    this.prune(Date.now());
    let subscriptions = 0;
    for (const session of this.sessions.values()) subscriptions += session.subscriptions.size;
    return { open: this.connections.size, sessions: this.sessions.size, subscriptions };
  }

  close(): void {
    for (const ws of this.connections) ws.terminate();
    this.wss.close();
  }

  private open(ws: WebSocket, auth: Session, wsc: string | undefined): void {
    const now = Date.now();
    this.prune(now);
    const stats = this.state.stats.ws;
    stats.connections++;
    let recovery: { recoveryState: "Successful" | "Failed"; recoveryErrorCode?: string } | undefined;
    let session: WsSession | undefined;
    if (wsc !== undefined) {
      const previous = this.sessions.get(wsc);
      if (
        previous &&
        previous.socket === undefined &&
        previous.auth === auth &&
        previous.subscriptions.size > 0
      ) {
        session = previous;
        recovery = { recoveryState: "Successful" };
      } else {
        // WSG-1003: another OAuth session; WSG-1005: no recoverable session with a subscription (both observed).
        recovery = {
          recoveryState: "Failed",
          recoveryErrorCode: previous?.auth !== auth && previous ? "WSG-1003" : "WSG-1005",
        };
        if (previous && previous.socket === undefined) this.sessions.delete(wsc);
      }
      stats.recoveries[recovery.recoveryState]++;
    }
    if (!session) {
      session = {
        wscToken: randomBytes(24).toString("base64url"),
        sequence: 0,
        auth,
        subscriptions: new Map(),
        socket: undefined,
        disconnectedAt: undefined,
        missed: [],
      };
      this.sessions.set(session.wscToken, session);
    }
    const current = session;
    current.socket = ws;
    current.disconnectedAt = undefined;
    this.connections.add(ws);
    stats.open = this.connections.size;
    send(ws, [
      { type: "ConnectionDetails", messageId: randomUUID(), status: 200, wsc: this.nextWsc(current) },
      {
        creationTime: new Date(now).toISOString(),
        maxConnectionsPerSession: 5,
        recoveryBufferSize: this.config.recoveryBufferSize,
        recoveryTimeout: this.config.recoveryTimeoutSec,
        idleTimeout: this.config.idleTimeoutSec,
        absoluteTimeout: this.config.absoluteTimeoutSec,
        maxActiveRequests: 10,
        ...recovery,
      },
    ]);
    if (recovery?.recoveryState === "Successful") {
      for (const message of current.missed.splice(0)) {
        stats.notificationsReplayed++;
        send(ws, message);
      }
    }
    this.keepAlive(ws, current);
  }

  /** Ping frames, the idle and absolute timeouts, messages; on close the session waits for recovery. */
  private keepAlive(ws: WebSocket, session: WsSession): void {
    const config = this.config;
    const stats = this.state.stats.ws;
    let pongDue: NodeJS.Timeout | undefined;
    const timeout = (errorCode: string, message: string) => {
      send(ws, [
        { type: "Error", messageId: randomUUID(), status: 400 },
        { errorCode, message },
      ]);
      ws.close(1000, errorCode);
      // A client that never answers the close still goes.
      setTimeout(() => ws.terminate(), 1000).unref();
    };
    let idle = setTimeout(() => timeout("WSG-902", "Idle timeout"), config.idleTimeoutSec * 1000);
    const absolute = setTimeout(
      () => timeout("WSG-903", "Absolute timeout"),
      config.absoluteTimeoutSec * 1000,
    );
    const activity = () => {
      clearTimeout(idle);
      idle = setTimeout(() => timeout("WSG-902", "Idle timeout"), config.idleTimeoutSec * 1000);
    };
    const ping = setInterval(() => {
      if (pongDue) return;
      stats.pings++;
      ws.ping();
      pongDue = setTimeout(() => {
        stats.pongTimeouts++;
        ws.terminate();
      }, config.pongTimeoutMs);
    }, config.pingIntervalMs);
    ws.on("pong", () => {
      stats.pongs++;
      clearTimeout(pongDue);
      pongDue = undefined;
      activity();
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      activity();
      this.onMessage(ws, session, isBinary ? undefined : data.toString());
    });
    ws.on("error", () => ws.terminate());
    ws.on("close", () => {
      for (const timer of [idle, absolute, pongDue]) clearTimeout(timer);
      clearInterval(ping);
      this.connections.delete(ws);
      stats.open = this.connections.size;
      if (session.socket === ws) {
        session.socket = undefined;
        session.disconnectedAt = Date.now();
      }
    });
  }

  private onMessage(ws: WebSocket, session: WsSession, text: string | undefined): void {
    const message = parseMessage(text);
    if (!message) {
      send(ws, [
        { type: "Error", messageId: randomUUID(), status: 400 },
        { errorCode: "EMU-400", message: "A message is a JSON array [meta, body?] with meta.type" },
      ]);
      return;
    }
    const [meta, body] = message;
    if (meta.type === "Heartbeat") {
      this.state.stats.ws.heartbeats++;
      send(ws, [{ type: "Heartbeat", messageId: meta.messageId ?? randomUUID(), status: 200 }]);
      return;
    }
    if (meta.type === "ClientRequest") {
      const answer = this.clientRequest(session, meta, body);
      send(ws, [
        { type: "ClientResponse", messageId: meta.messageId, status: answer.status, headers: answer.headers },
        answer.body,
      ]);
      return;
    }
    send(ws, [
      { type: "Error", messageId: meta.messageId ?? randomUUID(), status: 400 },
      { errorCode: "EMU-400", message: `Unsupported message type ${String(meta.type)}` },
    ]);
  }

  /** REST over the socket: the subscription endpoints only (create Medium, read/renew Light, delete Medium). */
  private clientRequest(
    session: WsSession,
    meta: Meta,
    body: unknown,
  ): { status: number; headers: Record<string, string>; body: unknown } {
    const method = String(meta.method ?? "GET").toUpperCase();
    const path = String(meta.path ?? "");
    const item = SUBSCRIPTION_ITEM.exec(path);
    const isCreate = method === "POST" && SUBSCRIPTION_PATH.test(path);
    if (!isCreate && !item)
      return failure({ ...NOT_SUPPORTED, message: `${method} ${path} is not served here` });
    const group = isCreate || method === "DELETE" ? "medium" : "light";
    const decision = this.state.take(this.state.bucketOf(session.auth), group);
    if (!decision.allowed) {
      return failure(
        { status: 429, errorCode: "CMN-301", message: "Request rate exceeded" },
        decision.headers,
      );
    }
    const headers = decision.headers;
    if (session.auth.dead !== undefined) return failure(TOKEN_NOT_FOUND, headers);
    if (isCreate) return this.subscribe(session, body, headers);
    const subscription = session.subscriptions.get(item?.[1] ?? "");
    if (!subscription) return failure(SUBSCRIPTION_NOT_FOUND, headers);
    if (method === "DELETE") {
      session.subscriptions.delete(subscription.id);
      return { status: 204, headers, body: null };
    }
    if (method === "GET" || method === "PUT" || method === "POST") {
      return { status: 200, headers, body: subscriptionInfo(subscription) };
    }
    return failure({ status: 405, errorCode: "EMU-405", message: "Method not allowed" }, headers);
  }

  private subscribe(
    session: WsSession,
    body: unknown,
    headers: Record<string, string>,
  ): { status: number; headers: Record<string, string>; body: unknown } {
    const request = (typeof body === "object" && body !== null ? body : {}) as {
      eventFilters?: unknown;
      deliveryMode?: { transportType?: unknown };
    };
    if (request.deliveryMode?.transportType !== "WebSocket") {
      return failure(
        invalid("deliveryMode.transportType", String(request.deliveryMode?.transportType)),
        headers,
      );
    }
    const filters = request.eventFilters;
    if (!Array.isArray(filters) || filters.length === 0) return failure(invalid("eventFilters", ""), headers);
    const scopes: Subscription["scopes"] = [];
    for (const filter of filters) {
      const m = typeof filter === "string" ? TELEPHONY_FILTER.exec(filter) : null;
      const user = session.auth.user;
      const account = m?.[1];
      if (!m || (account !== "~" && account !== user.accountId)) {
        return failure(invalid("eventFilters", String(filter)), headers);
      }
      const extension = m[2] === "~" ? user.ownerId : m[2];
      scopes.push({ extensionId: extension });
    }
    let count = 0;
    for (const other of this.sessions.values()) {
      if (other.auth.user === session.auth.user && other.auth.app === session.auth.app)
        count += other.subscriptions.size;
    }
    if (count >= MAX_SUBSCRIPTIONS) {
      return failure(
        {
          status: 400,
          errorCode: "EMU-400",
          message: `At most ${MAX_SUBSCRIPTIONS} subscriptions per user and app`,
        },
        headers,
      );
    }
    const subscription: Subscription = {
      id: randomUUID(),
      creationTime: new Date().toISOString(),
      eventFilters: filters as string[],
      scopes,
    };
    session.subscriptions.set(subscription.id, subscription);
    this.state.stats.ws.subscriptions++;
    return { status: 200, headers, body: subscriptionInfo(subscription) };
  }

  /** The `wsc` of the next message of a session: the same token, the sequence one up. */
  private nextWsc(session: WsSession): { token: string; sequence: number } {
    session.sequence++;
    return { token: session.wscToken, sequence: session.sequence };
  }

  /** Forget ws sessions whose recovery window has passed. */
  private prune(now: number): void {
    const window = this.config.recoveryTimeoutSec * 1000;
    for (const [key, session] of this.sessions) {
      if (session.disconnectedAt !== undefined && now - session.disconnectedAt > window)
        this.sessions.delete(key);
    }
  }
}

/** Whether an event belongs to a subscription's scope (the subscriber's account; its extension, if named). */
function matchesScope(
  scope: Subscription["scopes"][number],
  auth: Session,
  event: TelephonyEvent,
  state: EmulatorState,
): boolean {
  if (!state.ownAccountOf(auth.user)) return false;
  return scope.extensionId === undefined || scope.extensionId === event.extensionId;
}

function subscriptionInfo(subscription: Subscription) {
  return {
    uri: `/restapi/v1.0/subscription/${subscription.id}`,
    id: subscription.id,
    creationTime: subscription.creationTime,
    status: "Active",
    eventFilters: subscription.eventFilters,
    deliveryMode: { transportType: "WebSocket" },
  };
}

function parseMessage(text: string | undefined): Message | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length < 1) return undefined;
    const meta: unknown = value[0];
    if (typeof meta !== "object" || meta === null || typeof (meta as Meta).type !== "string")
      return undefined;
    return [meta as Meta, value[1]];
  } catch {
    return undefined;
  }
}

function send(ws: WebSocket, message: Message): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function failure(
  spec: ApiErrorSpec,
  headers: Record<string, string> = {},
): { status: number; headers: Record<string, string>; body: unknown } {
  return { status: spec.status, headers, body: errorBody(spec) };
}

function invalid(parameterName: string, value: string): ApiErrorSpec {
  return {
    status: 400,
    errorCode: "CMN-101",
    legacyCode: "InvalidParameter",
    message: `Parameter [${parameterName}] value is invalid`,
    details: { parameterName, parameterValue: value },
  };
}

/** Refuse an upgrade with a plain HTTP answer (a RingCentral-style JSON error body). */
function refuse(socket: Duplex, status: number, spec: ApiErrorSpec): void {
  const text = JSON.stringify(errorBody(spec));
  const reason = status === 401 ? "Unauthorized" : "Not Found";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

const NO_SUCH_PATH: ApiErrorSpec = {
  status: 404,
  errorCode: "EMU-404",
  message: "The emulator has no such resource",
};
const WS_TOKEN_INVALID: ApiErrorSpec = {
  status: 401,
  errorCode: "EMU-401",
  message: "WebSocket access token is unknown or expired",
};
const SESSION_GONE: ApiErrorSpec = {
  status: 401,
  errorCode: "OAU-213",
  legacyCode: "TokenInvalid",
  message: "Token not found",
};
const TOKEN_NOT_FOUND = SESSION_GONE;
const NOT_SUPPORTED: ApiErrorSpec = {
  status: 404,
  errorCode: "EMU-404",
  message: "Not served over the socket",
};
const SUBSCRIPTION_NOT_FOUND: ApiErrorSpec = {
  status: 404,
  errorCode: "CMN-102",
  legacyCode: "ResourceNotFound",
  message: "Resource for parameter [subscriptionId] is not found",
  details: { parameterName: "subscriptionId" },
};
