import { pagedBody, parsePaging, requestBase } from "./paging.js";
import type { EmulatorState } from "./state.js";

/**
 * GET /restapi/v1.0/account/~/extension: the account's extension directory (Medium group), paged like the call
 * log (`page`, `perPage` ≤ 1000, `navigation.nextPage`). Records carry what a directory lookup needs: `id`
 * (int64), `extensionNumber`, `name`, `type`, `status`. Deleted extensions are not listed.
 */
export function directoryPage(state: EmulatorState, url: URL) {
  const paging = parsePaging(url.searchParams);
  if ("status" in paging) return paging;
  const base = `${state.apiOrigin}/restapi/v1.0/account/${state.config.accountId}/extension`;
  const all = state.directory();
  const start = (paging.page - 1) * paging.perPage;
  const records = all.slice(start, start + paging.perPage).map((extension) => ({
    uri: `${base}/${extension.id}`,
    id: Number(extension.id),
    extensionNumber: extension.extensionNumber,
    name: extension.name,
    type: "User",
    status: "Enabled",
  }));
  return pagedBody(requestBase(url, state.apiOrigin), paging, all.length, records, state.config.pagingTotals);
}
