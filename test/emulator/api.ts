import type { IncomingMessage, ServerResponse } from "node:http";
import { callLogPage, callRecord, parseCallLogQuery, RECORDING_NOT_FOUND } from "./call-log.js";
import { handleControl, handleStats } from "./control.js";
import { directoryPage } from "./directory.js";
import { type ApiErrorSpec, sendError, sendJson } from "./http-util.js";
import { handleContent, sendBareRateLimit } from "./media.js";
import { handleRevoke, handleToken } from "./oauth.js";
import { type EmulatorState, missingAppPermission } from "./state.js";

/** `~` or the account's own id; anything else is another account. */
const ACCOUNT = "(?:~|\\d+)";
const CALL_LOG = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})(/extension/(?:~|\\d+))?/call-log$`);
const CALL_LOG_RECORD = new RegExp(
  `^/restapi/v1\\.0/account/(${ACCOUNT})(/extension/(?:~|\\d+))?/call-log/([^/,]+)$`,
);
const RECORDING = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})/recording/([^/]+)$`);
const CONTENT = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})/recording/([^/]+)/content$`);
const EXTENSION = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})/extension/(~|\\d+)$`);
const DIRECTORY = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})/extension$`);
const RECORDING_SETTINGS = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})/call-recording$`);
const ACCOUNT_INFO = new RegExp(`^/restapi/v1\\.0/account/(${ACCOUNT})$`);

/**
 * Codes the emulator had to invent are EMU-xxx: they can never be mistaken for one of RingCentral's published
 * codes (CMN-404 there is "Attempt to access another extension", CMN-405 "Login to extension required").
 */
const NOT_FOUND = {
  status: 404,
  errorCode: "EMU-404",
  message: "The emulator has no such resource",
} as const;

/** Another account or extension than the caller's own: RingCentral's "resource for parameter not found". */
function notFound(parameterName: "accountId" | "extensionId" | "callRecordId"): ApiErrorSpec {
  return {
    status: 404,
    errorCode: "CMN-102",
    legacyCode: "ResourceNotFound",
    message: `Resource for parameter [${parameterName}] is not found`,
    details: { parameterName },
  };
}

function isOwnAccount(state: EmulatorState, account: string | undefined): boolean {
  return account === "~" || account === state.config.accountId;
}

/** The API origin (platform): OAuth, account/extension info, call log, recording metadata, emulator hooks. */
export async function handleApi(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", state.apiOrigin);
  const path = url.pathname;
  if (path === "/__emulator/stats") return handleStats(state, res);
  if (path.startsWith("/__emulator/control/")) return handleControl(state, req, res, path.slice(20));

  const retryAfter = state.faults.forApi();
  if (retryAfter !== undefined) {
    state.stats.faultsInjected.unavailable++;
    sendError(
      res,
      { status: 503, errorCode: "CMN-503", message: "Service temporarily unavailable" },
      {
        "Retry-After": String(retryAfter),
      },
    );
    return;
  }

  if (req.method === "POST" && path === "/restapi/oauth/token") return handleToken(state, req, res);
  if (req.method === "POST" && path === "/restapi/oauth/revoke") return handleRevoke(state, req, res, url);
  if (req.method === "POST" && path === "/restapi/oauth/wstoken")
    return state.gateway.handleTokenRequest(req, res, url);
  if (sendBareRateLimit(state, res, state.faults.rateLimitFor("api"))) return;
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendError(res, { status: 405, errorCode: "EMU-405", message: "Method not allowed" });
    return;
  }

  let m = CALL_LOG.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "heavy", "ReadCallLog");
    if (!auth) return;
    state.stats.callLogRequests++;
    const accountLevel = m[2] === undefined;
    if (!isOwnAccount(state, m[1])) return sendError(res, notFound("accountId"), auth.headers);
    // An extension's own log holds only that extension's calls ("~": the caller's own).
    const extensionId = m[2]?.slice("/extension/".length);
    const ownExtension = extensionId === "~" ? auth.session.user.ownerId : extensionId;
    if (accountLevel && !auth.session.user.admin) {
      const message =
        "In order to call this API endpoint, user needs to have [FullCompanyCallLog] permission for requested resource.";
      sendError(
        res,
        {
          status: 403,
          errorCode: "CMN-408",
          legacyCode: "InsufficientPermissions",
          message,
          details: { permissionName: "FullCompanyCallLog" },
          topLevel: { permissionName: "FullCompanyCallLog" },
        },
        auth.headers,
      );
      return;
    }
    const query = parseCallLogQuery(url.searchParams);
    if ("status" in query) return sendError(res, query, auth.headers);
    // An extension's own log holds only its own calls; the account log all of them.
    return sendJson(
      res,
      200,
      callLogPage(state, url, { ...query, extensionId: ownExtension }, state.ownAccountOf(auth.session.user)),
      auth.headers,
    );
  }

  m = DIRECTORY.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "medium", "ReadAccounts");
    if (!auth) return;
    if (!isOwnAccount(state, m[1])) return sendError(res, notFound("accountId"), auth.headers);
    const page = directoryPage(state, url);
    if ("status" in page) return sendError(res, page, auth.headers);
    return sendJson(res, 200, page, auth.headers);
  }

  m = CALL_LOG_RECORD.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "heavy", "ReadCallLog");
    if (!auth) return;
    state.stats.callLogRequests++;
    const visible = isOwnAccount(state, m[1]) && state.ownAccountOf(auth.session.user);
    const index = visible ? state.dataset.indexOfRecordId(m[3] ?? "") : undefined;
    if (index === undefined || !state.dataset.hasAppeared(index))
      return sendError(res, notFound("callRecordId"), auth.headers);
    const view = url.searchParams.get("view") === "Detailed" ? "Detailed" : "Simple";
    return sendJson(res, 200, callRecord(state, index, view), auth.headers);
  }

  m = CONTENT.exec(path);
  if (m) {
    // Content lives on the media origin only; the platform host does not redirect there.
    const auth = state.authorize(req, res, url, "heavy");
    if (!auth) return;
    sendError(
      res,
      { ...NOT_FOUND, message: "Recording content is served by the media origin" },
      auth.headers,
    );
    return;
  }

  m = RECORDING.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "heavy", "ReadCallRecording");
    if (!auth) return;
    const id = m[2] ?? "";
    const visible = isOwnAccount(state, m[1]) && state.ownAccountOf(auth.session.user);
    const recording = visible ? state.liveRecording(id) : undefined;
    if (!recording) return sendError(res, RECORDING_NOT_FOUND, auth.headers);
    return sendJson(
      res,
      200,
      {
        uri: state.recordingUri(id),
        id,
        contentUri: state.contentUri(id),
        contentType: recording.contentType,
        duration: recording.durationSec,
      },
      auth.headers,
    );
  }

  m = EXTENSION.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "light", "ReadAccounts");
    if (!auth) return;
    const user = auth.session.user;
    if (!isOwnAccount(state, m[1])) return sendError(res, notFound("accountId"), auth.headers);
    const id = m[2] === "~" ? user.ownerId : m[2];
    // Your own extension; an admin may read any extension of the account (the uri of every call record), also
    // one the directory no longer lists (its calls still name it): then it is Disabled.
    const extension =
      id === user.ownerId
        ? { id: user.ownerId, extensionNumber: user.extensionNumber, name: user.name }
        : user.admin
          ? (state.directory().find((x) => x.id === id) ?? state.companyExtensions.find((x) => x.id === id))
          : undefined;
    if (!extension) return sendError(res, notFound("extensionId"), auth.headers);
    const base = `${state.apiOrigin}/restapi/v1.0/account/${user.accountId}`;
    const isUser = extension.id === user.ownerId;
    return sendJson(
      res,
      200,
      {
        uri: `${base}/extension/${extension.id}`,
        id: Number(extension.id),
        extensionNumber: extension.extensionNumber,
        name: extension.name,
        type: "User",
        status: "listed" in extension && extension.listed === false ? "Disabled" : "Enabled",
        account: { uri: base, id: user.accountId },
        ...(isUser && {
          permissions: { admin: { enabled: user.admin }, internationalCalling: { enabled: false } },
        }),
      },
      auth.headers,
    );
  }

  m = RECORDING_SETTINGS.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "light", "ReadAccounts");
    if (!auth) return;
    if (!isOwnAccount(state, m[1]) || !state.ownAccountOf(auth.session.user)) {
      return sendError(res, notFound("accountId"), auth.headers);
    }
    const settings = state.recordingSettings;
    // Told to refuse (spec §10: some accounts also need ReadCompanyInfo): as an app without the permission.
    if (settings.forbidden) return sendError(res, missingAppPermission("ReadAccounts"), auth.headers);
    return sendJson(
      res,
      200,
      {
        onDemand: { enabled: settings.onDemand },
        automatic: {
          enabled: settings.automatic,
          outboundCallTones: false,
          outboundCallAnnouncement: false,
          allowMute: false,
          extensionCount: settings.automatic ? state.companyExtensions.length : 0,
        },
        retentionPeriod: settings.retentionPeriod,
        maxNumberLimit: settings.maxNumberLimit,
      },
      auth.headers,
    );
  }

  m = ACCOUNT_INFO.exec(path);
  if (m) {
    const auth = state.authorize(req, res, url, "light", "ReadAccounts");
    if (!auth) return;
    // A user of another account is told about that account.
    const accountId = auth.session.user.accountId;
    if (m[1] !== "~" && m[1] !== accountId) return sendError(res, notFound("accountId"), auth.headers);
    const uri = `${state.apiOrigin}/restapi/v1.0/account/${accountId}`;
    return sendJson(res, 200, { uri, id: Number(accountId), status: "Confirmed" }, auth.headers);
  }

  sendError(res, NOT_FOUND);
}

/** The media origin: recording content only. */
export async function handleMedia(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", state.mediaOrigin);
  const m = CONTENT.exec(url.pathname);
  if (!m || (req.method !== "GET" && req.method !== "HEAD")) {
    sendError(res, NOT_FOUND);
    return;
  }
  if (!isOwnAccount(state, m[1])) {
    sendError(res, RECORDING_NOT_FOUND);
    return;
  }
  return handleContent(state, req, res, url, m[2] ?? "");
}
