import type { RateLimitGroup } from "./types.js";

/**
 * Which rate-limit group a request belongs to, known before it is sent (spec §3, `x-throttling-group`).
 * The server's `X-Rate-Limit-Group` has the last word: the limiter learns a different group per route key.
 */
export interface Route {
  /** A stable name for the kind of endpoint, e.g. "call-log"; what the limiter learns groups for. */
  readonly key: string;
  readonly group: RateLimitGroup;
}

const ACCOUNT = String.raw`^/restapi/v1\.0/account/[^/]+`;
const EXTENSION = `${ACCOUNT}/extension/[^/]+`;

const TABLE: ReadonlyArray<readonly [RegExp, Route]> = [
  [/^\/restapi\/oauth\//, { key: "oauth", group: "auth" }],
  [new RegExp(`${ACCOUNT}/recording/[^/]+/content/?$`), { key: "recording-content", group: "heavy" }],
  [new RegExp(`${ACCOUNT}/recording/[^/]+/?$`), { key: "recording", group: "heavy" }],
  [new RegExp(`^(${EXTENSION}|${ACCOUNT})/call-log[^/]*(/|$)`), { key: "call-log", group: "heavy" }],
  [new RegExp(`${EXTENSION}/?$`), { key: "extension-info", group: "light" }],
  [new RegExp(`${ACCOUNT}/extension/?$`), { key: "extension-list", group: "medium" }],
  [new RegExp(`${ACCOUNT}/call-recording/?$`), { key: "recording-settings", group: "light" }],
  [new RegExp(`${ACCOUNT}/?$`), { key: "account-info", group: "light" }],
];

/** Anything else: a guess, corrected by the first response's `X-Rate-Limit-Group`. */
const OTHER: Route = { key: "other", group: "medium" };

export function routeOf(url: URL): Route {
  for (const [pattern, route] of TABLE) if (pattern.test(url.pathname)) return route;
  return OTHER;
}
