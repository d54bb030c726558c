import { createRequire } from "node:module";
import { UsageError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { registerSecret } from "../log/redact.js";
import { isHealthy } from "./metrics.js";

// Required, not imported, for the reason in api/transport.ts: on Node 22+ an ESM import of node:http loads all
// of undici, which every download would pay for, pings or not.
const require = createRequire(import.meta.url);
const { request: httpRequest } = require("node:http") as typeof import("node:http");
const { request: httpsRequest } = require("node:https") as typeof import("node:https");

/** Everything the pings may add to a run, start and end together (the promise: at most 15 s). */
export const PING_BUDGET_MS = 15_000;
/** The end ping of an interrupted run: the service manager waits a few seconds only (SIGTERM, then SIGKILL). */
const HURRIED_BUDGET_MS = 3000;
/** The start ping is sent beside the run; it may take this long before the end ping goes without it. */
const START_TIMEOUT_MS = 10_000;

/**
 * healthchecks.io's convention, which most "dead man's switch" services share: `URL/start` when the run starts,
 * then `URL` (success) or `URL/fail`, with the run's JSON result as the body so the check's page shows it. A
 * ping never changes the run's exit code and never holds a run up for more than PING_BUDGET_MS: a monitor that
 * is down is a warning line, not a failed backup. Node's http module, not fetch: a download never loads undici.
 */
export class Pinger {
  private readonly url: URL;
  private started: Promise<void> | undefined;
  /** Requests not yet over (a monitor may answer the headers and never the body): none outlives `finish`. */
  private readonly open = new Set<{ destroy(): unknown }>();

  constructor(
    url: string,
    private readonly log: Logger,
  ) {
    try {
      this.url = new URL(url);
    } catch {
      throw new UsageError(`--ping-url ${JSON.stringify(url)} is not a URL`);
    }
    if (this.url.protocol !== "https:" && this.url.protocol !== "http:") {
      throw new UsageError(`--ping-url must be an http:// or https:// URL (got ${this.url.protocol}//)`);
    }
    // The check's URL is its password (anyone who knows it can ping it): never printed.
    registerSecret(url);
    registerSecret(this.url.pathname.slice(1));
  }

  /** `URL/start`, sent in the background: the run does not wait for it. */
  start(): void {
    this.started = this.send("start", "", START_TIMEOUT_MS);
  }

  /** `URL` for exit 0 or 6 (a time-boxed run that continues next time is healthy), `URL/fail` otherwise. */
  async finish(exitCode: number, body: string, options: { hurry?: boolean } = {}): Promise<void> {
    // A stopped run (SIGTERM) must end within seconds: its ping gets a short budget.
    const budget = options.hurry ? HURRIED_BUDGET_MS : PING_BUDGET_MS;
    const until = Date.now() + budget;
    if (this.started) await Promise.race([this.started, sleep(budget / 3)]);
    await this.send(isHealthy(exitCode) ? "" : "fail", body, Math.max(1000, until - Date.now()));
    // The run is over: a ping still on the wire (a start ping never answered, a body never sent) must not keep
    // the process alive past the budget.
    for (const req of this.open) req.destroy();
  }

  private send(suffix: string, body: string, timeoutMs: number): Promise<void> {
    const target = new URL(this.url);
    if (suffix) target.pathname = `${target.pathname.replace(/\/$/, "")}/${suffix}`;
    const request = target.protocol === "https:" ? httpsRequest : httpRequest;
    const what = suffix === "" ? "success" : suffix;
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (problem?: string) => {
        if (settled) return;
        settled = true;
        if (problem)
          this.log.warn(`the ${what} ping to ${target.host} failed (${problem}); the run's result stands`);
        resolve();
      };
      const req = request(target, {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      this.open.add(req);
      // Armed until the exchange is over, body included: the status settles the ping, but a monitor that sends
      // the headers and then nothing would otherwise hold the socket, and the process, open for good.
      const timer = setTimeout(() => {
        req.destroy();
        done(`no answer within ${Math.round(timeoutMs / 1000)} s`);
      }, timeoutMs);
      req.on("close", () => {
        clearTimeout(timer);
        this.open.delete(req);
      });
      req.on("response", (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        done(status >= 200 && status < 300 ? undefined : `HTTP ${status}`);
      });
      req.on("error", (error) => done(error.message));
      req.end(body);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
