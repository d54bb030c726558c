import { NetworkError, tlsTrustFailure } from "./errors.js";
import { createHttpTransport } from "./transport.js";

/** What one unauthenticated request to the API server showed. */
export interface ServerAnswer {
  /** The HTTP status (any status proves the server answered over a trusted connection). */
  status: number;
  /**
   * How far the server's clock is ahead of this machine's (negative: behind), from its `Date` header against the
   * local time halfway through the request; undefined when it sent none. Good to about a second.
   */
  clockSkewMs: number | undefined;
}

/**
 * One GET of `/restapi/v1.0` without a token: proves that the server's name resolves, that it answers, and that
 * its TLS certificate is trusted (TlsTrustError otherwise; NetworkError for DNS, refused, reset, silence), and
 * reads its clock. Costs no rate-limit budget of the login; nothing is sent but the path.
 */
export async function probeServer(
  server: string,
  options: { signal: AbortSignal; timeoutMs: number },
): Promise<ServerAnswer> {
  const target = new URL("/restapi/v1.0", server);
  const transport = createHttpTransport({ idleTimeoutMs: options.timeoutMs });
  const sentAt = Date.now();
  let response: Awaited<ReturnType<typeof transport>>;
  try {
    response = await transport(target, { headers: { Accept: "application/json" }, signal: options.signal });
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason;
    throw tlsTrustFailure(error, target) ?? new NetworkError(target.pathname, error);
  }
  const localTime = (sentAt + Date.now()) / 2;
  response.discard();
  const date = Date.parse(response.headers.get("date") ?? "");
  // The header has whole seconds: the server's clock was somewhere in that second, on average halfway.
  return { status: response.status, clockSkewMs: Number.isNaN(date) ? undefined : date + 500 - localTime };
}
