import { ApiError } from "../api/errors.js";
import type { ApiClient } from "../api/types.js";
import type { WsToken } from "./push-channel.js";

const WS_TOKEN_PATH = "/restapi/oauth/wstoken";

/**
 * POST /restapi/oauth/wstoken through the ApiClient: the auth session supplies (and recovers) the access token,
 * the rate limiter books it in the Auth group, 429s and 401s are handled as for every other request.
 */
export function wsTokenVia(api: ApiClient): (signal: AbortSignal) => Promise<WsToken> {
  return async (signal) => {
    const body = await api.getJson<Partial<WsToken>>(WS_TOKEN_PATH, { method: "POST", signal });
    if (
      typeof body.uri !== "string" ||
      typeof body.ws_access_token !== "string" ||
      !(Number(body.expires_in) > 0)
    ) {
      throw new ApiError(
        200,
        undefined,
        "the ws token answer lacks uri, ws_access_token or expires_in",
        WS_TOKEN_PATH,
      );
    }
    return { uri: body.uri, ws_access_token: body.ws_access_token, expires_in: Number(body.expires_in) };
  };
}
