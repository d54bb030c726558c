/**
 * Where the bearer token may go: the configured server's host (any port), `ringcentral.com`,
 * `ringcentral.biz` and their subdomains over HTTPS (the media host of `contentUri`: `media.ringcentral.com`
 * for most brands, `media.ringcentral.biz` for AT&T Office@Hand and Verizon, which run in RingCentral's
 * segregated environment), and — only when the configured server itself is on the loopback interface (an
 * emulator) — the canonical loopback names `localhost`, `127.0.0.1` and `::1` on any port (the emulator's
 * media origin).
 *
 * Other 127.0.0.0/8 addresses are deliberately NOT loopback here: they are distinct listeners (any local user
 * can bind 127.0.0.2), so a `contentUri` pointing there is as foreign as any other host. Plain HTTP is
 * accepted only where the configured server already uses it (its own host, or loopback): a token never
 * travels in clear text to a host the user did not configure.
 */

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** RingCentral's two production domains (and the sandbox, a subdomain of the first). */
const RINGCENTRAL_DOMAINS = ["ringcentral.com", "ringcentral.biz"] as const;

export function isLoopback(url: URL): boolean {
  return LOOPBACK_NAMES.has(url.hostname);
}

function isRingCentral(url: URL): boolean {
  const host = url.hostname;
  return RINGCENTRAL_DOMAINS.some((domain) => host === domain || host.endsWith(`.${domain}`));
}

export function isTokenHost(target: URL, server: URL): boolean {
  if (target.protocol !== "https:" && target.protocol !== "http:") return false;
  if (target.username || target.password) return false;
  const sameHost = target.hostname === server.hostname;
  const loopback = isLoopback(server) && isLoopback(target);
  if (target.protocol === "http:") return (sameHost && server.protocol === "http:") || loopback;
  return sameHost || loopback || isRingCentral(target);
}

/**
 * Where a GET may follow a redirect WITHOUT the token (storage on another host, e.g. a CDN): any HTTPS host.
 * Plain HTTP only to a host the token could go to anyway: clear text to a host the user never configured is
 * refused, even without a token (it would expose the recording itself).
 */
export function mayFollowWithoutToken(target: URL, server: URL): boolean {
  if (target.username || target.password) return false;
  if (target.protocol === "https:") return true;
  return target.protocol === "http:" && isTokenHost(target, server);
}

/**
 * Why `value` cannot be the configured server, or undefined when it can: an absolute https:// URL, or plain http
 * on a loopback host only (a local emulator). Anywhere else the client secret and the tokens would travel in the
 * clear — or to whatever a `javascript:` or `file:` URL means. The one rule for a flag, the environment and a
 * store's record alike.
 */
export function serverUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url))) {
    return url.username || url.password ? "must not carry a user name or password" : undefined;
  }
  return "must be an https:// URL";
}
