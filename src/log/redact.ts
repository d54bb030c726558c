/**
 * Secrets never reach a terminal or a log: every line we print passes through `redact`. Known secrets are
 * registered as soon as they are read (flags, environment, store, token responses); generic patterns catch
 * the rest (bearer headers, JWTs, token-bearing query strings and form fields).
 */

const known = new Set<string>();

/** Remember a secret so that every later line is scrubbed of it. Short values are ignored (false hits). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 8) known.add(value);
}

const PATTERNS: readonly RegExp[] = [
  /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*)?/g,
  /\b(access_token|refresh_token|assertion|client_secret|token|jwt)=([^&\s"']+)/gi,
  /"(access_token|refresh_token|assertion|client_secret|clientSecret|jwt|accessToken|refreshToken)"\s*:\s*"[^"]*"/gi,
];

export function redact(text: string): string {
  let out = text;
  for (const secret of known) out = out.split(secret).join("***");
  out = out.replace(PATTERNS[0] as RegExp, (_m, scheme: string) => `${scheme} ***`);
  out = out.replace(PATTERNS[1] as RegExp, "***");
  out = out.replace(PATTERNS[2] as RegExp, (_m, key: string) => `${key}=***`);
  out = out.replace(PATTERNS[3] as RegExp, (_m, key: string) => `"${key}":"***"`);
  return out;
}

/**
 * `redact` applied to every string inside a JSON-able value (keys included), before it is serialised: a secret
 * is scrubbed in whatever field it hides, and the output stays valid JSON whatever the secret contains.
 */
export function redactValue<T>(value: T): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redact(key), redactValue(item)]),
    ) as T;
  }
  return value;
}
