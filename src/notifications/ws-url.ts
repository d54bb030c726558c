import { isTokenHost } from "../api/hosts.js";

/**
 * Why the gateway `uri` from POST /restapi/oauth/wstoken must not be connected to, or undefined when it may:
 * the ws token goes there, so it follows the bearer token's host rule (api/hosts.ts) with wss for https and ws
 * for http — `wss://` always, plain `ws://` only when the configured server itself is loopback (the emulator).
 */
export function wsUriProblem(uri: string, server: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "is not a URL";
  }
  const protocol = url.protocol === "wss:" ? "https:" : url.protocol === "ws:" ? "http:" : undefined;
  if (!protocol) return "is not a ws:// or wss:// URL";
  const asHttp = new URL(url.href.replace(/^wss?:/, protocol));
  return isTokenHost(asHttp, new URL(server))
    ? undefined
    : "is not a host the token may go to (wss:// to RingCentral)";
}
