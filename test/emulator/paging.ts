import type { ApiErrorSpec } from "./http-util.js";

/** The platform's paging cap for list endpoints (call log, extension directory). */
export const MAX_PER_PAGE = 1000;

export interface Paging {
  page: number;
  perPage: number;
}

/** 400 CMN-101 naming the parameter, as the platform answers a bad query value. */
export function invalidParameter(parameterName: string, value: string): ApiErrorSpec {
  return {
    status: 400,
    errorCode: "CMN-101",
    legacyCode: "InvalidParameter",
    message: `Parameter [${parameterName}] value is invalid`,
    details: { parameterName, parameterValue: value },
  };
}

function parsePositiveInt(raw: string | null, name: string, fallback: number): number | ApiErrorSpec {
  if (raw === null) return fallback;
  return /^\d{1,9}$/.test(raw) && Number(raw) >= 1 ? Number(raw) : invalidParameter(name, raw);
}

/** `page` (≥ 1, default 1) and `perPage` (default 100, `max` or anything above 1000 = 1000). */
export function parsePaging(params: URLSearchParams): Paging | ApiErrorSpec {
  const page = parsePositiveInt(params.get("page"), "page", 1);
  if (typeof page === "object") return page;
  const perPageRaw = params.get("perPage");
  const perPage = perPageRaw === "max" ? MAX_PER_PAGE : parsePositiveInt(perPageRaw, "perPage", 100);
  if (typeof perPage === "object") return perPage;
  return { page, perPage: Math.min(perPage, MAX_PER_PAGE) };
}

function pageUri(base: URL, page: number): { uri: string } {
  const url = new URL(base);
  url.searchParams.set("page", String(page));
  return { uri: url.toString() };
}

/**
 * A list response shaped like the platform's: `navigation.nextPage` until the last page; past the end no records
 * and `paging: {page, perPage}` only. `base` is the request URL (on the API origin, without an access token).
 */
export function pagedBody<T>(
  base: URL,
  paging: Paging,
  total: number,
  records: T[],
  withTotals: boolean,
): { uri: string; records: T[]; paging: object; navigation: object } {
  const { page, perPage } = paging;
  if (records.length === 0) {
    return {
      uri: base.toString(),
      records,
      paging: { page, perPage },
      navigation: { firstPage: pageUri(base, 1) },
    };
  }
  const start = (page - 1) * perPage;
  const totalPages = Math.ceil(total / perPage);
  return {
    uri: base.toString(),
    records,
    paging: {
      page,
      perPage,
      pageStart: start,
      pageEnd: start + records.length - 1,
      ...(withTotals && { totalPages, totalElements: total }),
    },
    navigation: {
      firstPage: pageUri(base, 1),
      ...(start + records.length < total && { nextPage: pageUri(base, page + 1) }),
      ...(page > 1 && { previousPage: pageUri(base, page - 1) }),
      ...(withTotals && { lastPage: pageUri(base, Math.max(1, totalPages)) }),
    },
  };
}

/** The request URL as the platform echoes it in `uri` and navigation: API origin, no access token. */
export function requestBase(url: URL, apiOrigin: string): URL {
  const base = new URL(url.pathname + url.search, apiOrigin);
  base.searchParams.delete("access_token");
  return base;
}
