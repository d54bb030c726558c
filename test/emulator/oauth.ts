import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApiErrorSpec, type HeaderBag, readBody, sendError, sendJson } from "./http-util.js";
import type { EmulatorApp } from "./options.js";
import { tokenInfo } from "./sessions.js";
import type { EmulatorState } from "./state.js";

const JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";

function oauthError(
  status: number,
  error: string,
  errorCode: string,
  message: string,
  extra?: object,
): ApiErrorSpec {
  return { status, errorCode, message, oauth: { error, description: message }, details: { ...extra } };
}

type ClientAuth =
  | { kind: "ok"; app: EmulatorApp }
  | { kind: "missing" }
  | { kind: "invalid"; clientId: string };

/** Basic client authentication. Every emulated app is confidential (has a secret), so Basic is required. */
function clientAuth(state: EmulatorState, req: IncomingMessage): ClientAuth {
  const match = /^basic\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (!match?.[1]) return { kind: "missing" };
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const clientId = colon < 0 ? decoded : decoded.slice(0, colon);
  const secret = colon < 0 ? undefined : decoded.slice(colon + 1);
  const app = state.config.apps.find((a) => a.clientId === clientId && a.clientSecret === secret);
  return app ? { kind: "ok", app } : { kind: "invalid", clientId };
}

/**
 * The shared front of /restapi/oauth/token and /revoke: Auth bucket per app (the client id claimed in the
 * Basic header; none → "anonymous"), form body only, client authentication.
 */
async function oauthFront(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ app: EmulatorApp; form: URLSearchParams; headers: HeaderBag } | undefined> {
  const { tokenRedirect, silentTokenEndpoint, tokenEndpointError } = state.faults.current;
  if (tokenRedirect) {
    // Answered before the body is read: a client that follows would re-send its grant to the Location.
    state.stats.tokenRequestsRedirected++;
    res.writeHead(tokenRedirect.status ?? 307, { Location: tokenRedirect.location, "Content-Length": 0 });
    res.end();
    return undefined;
  }
  if (silentTokenEndpoint) {
    state.stats.tokenRequestsHeld++;
    return undefined; // the connection stays open, nothing is ever written (stop() destroys it)
  }
  if (tokenEndpointError) {
    state.stats.tokenRequestsFailed++;
    const status = tokenEndpointError.status ?? 500;
    sendError(res, { status, errorCode: "CMN-500", message: "Internal Server Error" });
    return undefined;
  }
  const auth = clientAuth(state, req);
  const key = auth.kind === "ok" ? auth.app.clientId : auth.kind === "invalid" ? auth.clientId : "anonymous";
  const headers = state.charge(`app:${key}`, "auth", res);
  if (!headers) return undefined;
  const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (contentType !== "application/x-www-form-urlencoded") {
    sendError(
      res,
      {
        status: 415,
        errorCode: "CMN-415",
        message: "Unsupported Media Type: use application/x-www-form-urlencoded",
      },
      headers,
    );
    return undefined;
  }
  const form = new URLSearchParams(await readBody(req));
  if (auth.kind === "missing") {
    sendError(
      res,
      oauthError(401, "invalid_client", "OAU-123", "Client authentication is required"),
      headers,
    );
    return undefined;
  }
  if (auth.kind === "invalid") {
    const spec = oauthError(400, "invalid_client", "OAU-153", "Invalid client", {
      parameters: [{ parameterName: "client_id", parameterValue: auth.clientId }],
    });
    sendError(res, spec, headers);
    return undefined;
  }
  return { app: auth.app, form, headers };
}

function optionalNumber(form: URLSearchParams, name: string): number | undefined {
  const raw = form.get(name);
  return raw === null || raw === "" ? undefined : Number(raw);
}

export async function handleToken(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const front = await oauthFront(state, req, res);
  if (!front) return;
  const { app, form, headers } = front;
  const stats = state.stats;
  const requestedAccess = optionalNumber(form, "access_token_ttl");
  const requestedRefresh = optionalNumber(form, "refresh_token_ttl");
  if (requestedAccess !== undefined) stats.accessTokenTtlRequested.push(requestedAccess);
  if (requestedRefresh !== undefined) stats.refreshTokenTtlRequested.push(requestedRefresh);
  const ttls = {
    access: state.sessions.accessTtl(requestedAccess),
    refresh: state.sessions.refreshTtl(requestedRefresh),
  };
  const grant = form.get("grant_type");
  if (grant === JWT_GRANT) {
    const assertion = form.get("assertion");
    if (!assertion) {
      stats.failedLogins++;
      sendError(
        res,
        oauthError(400, "invalid_request", "EMU-400", "Parameter [assertion] is missing"),
        headers,
      );
      return;
    }
    const user = state.config.users.find((u) => u.jwt === assertion);
    if (!user) {
      stats.failedLogins++;
      sendError(res, oauthError(400, "invalid_grant", "OAU-140", "Invalid JWT token"), headers);
      return;
    }
    const session = state.sessions.login(user, app, ttls);
    stats.jwtLogins++;
    sendJson(res, 200, tokenInfo(session, session.current), headers);
    return;
  }
  if (grant === "refresh_token") {
    const refreshToken = form.get("refresh_token");
    if (!refreshToken) {
      stats.failedRefreshes++;
      sendError(
        res,
        oauthError(400, "invalid_request", "EMU-400", "Parameter [refresh_token] is missing"),
        headers,
      );
      return;
    }
    const previousCurrent = state.sessions.sessionOf(refreshToken)?.current.refreshToken;
    const result = state.sessions.refresh(refreshToken, app, ttls);
    if (!result.ok) {
      stats.failedRefreshes++;
      sendError(res, oauthError(400, "invalid_grant", result.errorCode, result.message), headers);
      return;
    }
    stats.refreshes++;
    if (previousCurrent !== refreshToken) stats.graceRefreshes++;
    sendJson(res, 200, tokenInfo(result.session, result.pair), headers);
    return;
  }
  const spec = oauthError(
    400,
    "unsupported_grant_type",
    "OAU-250",
    `Unsupported grant type [${grant ?? ""}]`,
  );
  sendError(res, spec, headers);
}

/** Revoke kills the whole session of the token (access or refresh). Unknown tokens also get 200 (RFC 7009). */
export async function handleRevoke(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const front = await oauthFront(state, req, res);
  if (!front) return;
  const token = front.form.get("token") ?? url.searchParams.get("token");
  if (!token) {
    sendError(
      res,
      oauthError(400, "invalid_request", "EMU-400", "Parameter [token] is missing"),
      front.headers,
    );
    return;
  }
  if (state.sessions.revoke(token)) state.stats.revokes++;
  res.writeHead(200, { ...front.headers, "Content-Length": 0 });
  res.end();
}
