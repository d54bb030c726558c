import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../../src/api/errors.js";
import type { ApiClient, ApiResponse } from "../../../src/api/types.js";
import { LocalState } from "../../../src/destination/local/state.js";
import {
  DIRECTORY_CACHE_MS,
  openExtensionDirectory,
  UnknownExtensionError,
} from "../../../src/listing/extensions.js";
import { Logger } from "../../../src/log/logger.js";
import { tempDir } from "../../helpers/cli.js";

const DIRECTORY = "/restapi/v1.0/account/~/extension";
const OWN = "/restapi/v1.0/account/~/extension/~";

interface Entry {
  id: number;
  extensionNumber: string;
  name: string;
}

/** A directory server: `perPage` entries a page, linked by navigation.nextPage; counts its requests. */
function fakeApi(entries: () => Entry[], options: { perPage?: number; forbidden?: boolean } = {}) {
  const requested: string[] = [];
  const api: ApiClient = {
    get: () => Promise.reject(new Error("not used")),
    // The directory's pages are read as a stream into a capped buffer, like call-log pages.
    getJsonWith: async (url, _init, read) => {
      const body = Readable.from([Buffer.from(JSON.stringify(await api.getJson(url)))]);
      return read({ url: "", body } as unknown as ApiResponse);
    },
    getJson: async <T>(url: string) => {
      requested.push(url);
      const parsed = new URL(url, "https://platform.ringcentral.com");
      if (parsed.pathname === OWN) return { id: 7, extensionNumber: "101", name: "Me" } as T;
      if (parsed.pathname !== DIRECTORY) throw new Error(`unexpected ${url}`);
      if (options.forbidden) throw new ApiError(403, "CMN-408", "no", parsed.pathname);
      const perPage = options.perPage ?? 1000;
      const page = Number(parsed.searchParams.get("page") ?? "1");
      const all = entries();
      const records = all.slice((page - 1) * perPage, page * perPage);
      const more = page * perPage < all.length;
      return {
        records,
        navigation: more
          ? { nextPage: { uri: `https://platform.ringcentral.com${DIRECTORY}?page=${page + 1}` } }
          : {},
      } as T;
    },
  };
  return { api, requested };
}

const log = new Logger("quiet");
let dir: ReturnType<typeof tempDir>;
let cacheFile: string;
let state: LocalState;
beforeEach(() => {
  dir = tempDir("rcr-extensions-");
  state = new LocalState(dir.path);
  cacheFile = join(dir.path, "extensions.json");
});
afterEach(() => dir.cleanup());

const sales = { id: 102, extensionNumber: "102", name: "Sales" };
const support = { id: 103, extensionNumber: "103", name: "Support" };

describe("extension directory", () => {
  it("reads every page once, shares it between concurrent lookups, and caches it", async () => {
    const { api, requested } = fakeApi(() => [sales, support], { perPage: 1 });
    const directory = openExtensionDirectory({ api, source: "account", state, writable: true, log });
    const [a, b] = await Promise.all([directory.byId(102), directory.byId("103")]);
    expect(a).toEqual({ id: "102", extensionNumber: "102", name: "Sales" });
    expect(b?.name).toBe("Support");
    expect(requested).toHaveLength(2); // two pages, one read
    expect(await directory.byId(undefined)).toBeUndefined();
    const cache = JSON.parse(readFileSync(cacheFile, "utf8")) as { extensions: unknown[] };
    expect(cache.extensions).toHaveLength(2);

    // The next run uses the cache while it is younger than a day.
    const later = openExtensionDirectory({ api, source: "account", state, writable: true, log });
    expect((await later.byId(103))?.name).toBe("Support");
    expect(requested).toHaveLength(2);
  });

  it("re-reads a cached directory once on an unknown id, and then answers undefined", async () => {
    let entries = [sales];
    const { api, requested } = fakeApi(() => entries);
    await openExtensionDirectory({ api, source: "account", state, writable: true, log }).byId(102);
    entries = [sales, support]; // a new extension since the cache was written
    const directory = openExtensionDirectory({ api, source: "account", state, writable: true, log });
    expect((await directory.byId(103))?.name).toBe("Support");
    expect(requested).toHaveLength(2);
    const [gone, alsoGone] = await Promise.all([directory.byId(999), directory.byId(998)]);
    expect(gone).toBeUndefined();
    expect(alsoGone).toBeUndefined();
    expect(requested).toHaveLength(2); // already fresh this run: no more reads
  });

  it("reads again once the cache is a day old; a dry run does not write the cache", async () => {
    const { api, requested } = fakeApi(() => [sales]);
    let now = Date.parse("2026-11-01T00:00:00Z");
    const open = (writable: boolean) =>
      openExtensionDirectory({ api, source: "account", state, writable, log, now: () => now });
    await open(false).byId(102);
    expect(() => readFileSync(cacheFile)).toThrow();
    await open(true).byId(102);
    now += DIRECTORY_CACHE_MS - 1000;
    await open(true).byId(102);
    expect(requested).toHaveLength(2);
    now += 2000;
    await open(true).byId(102);
    expect(requested).toHaveLength(3);
    writeFileSync(cacheFile, "{torn");
    await open(true).byId(102);
    expect(requested).toHaveLength(4);
  });

  it("names unknown extension numbers (exit 2), after one re-read", async () => {
    const { api, requested } = fakeApi(() => [sales, support]);
    const directory = openExtensionDirectory({ api, source: "account", state, writable: true, log });
    await expect(directory.requireNumbers(["102", "103"])).resolves.toBeUndefined();
    const error = await directory.requireNumbers(["102", "998", "999"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownExtensionError);
    expect((error as Error).message).toBe(
      "--extension 998, --extension 999: no such extension number in the account's directory",
    );
    expect(requested).toHaveLength(1);
  });

  it("without permission to read the directory, or with --scope extension, knows only the own extension", async () => {
    const forbidden = fakeApi(() => [sales], { forbidden: true });
    const fallback = openExtensionDirectory({
      api: forbidden.api,
      source: "account",
      state,
      writable: true,
      log,
    });
    expect((await fallback.byId(7))?.name).toBe("Me");
    expect(await fallback.byId(102)).toBeUndefined();

    const own = fakeApi(() => [sales]);
    const scoped = openExtensionDirectory({ api: own.api, source: "own", state, writable: true, log });
    expect((await scoped.byId("7"))?.extensionNumber).toBe("101");
    expect(own.requested).toEqual([OWN]);
  });
});
