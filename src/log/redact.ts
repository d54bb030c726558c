/**
 * Secrets never reach a terminal, a log or a sidecar: every line we print passes through `redact`. It matches
 * the secrets rc-recordings KNOWS — registered as soon as they are read (flags, environment, store, token
 * answers, the keychain) — in every form they travel in (as is, URL-encoded, JSON-escaped, base64, and the
 * base64 `clientId:clientSecret` of a Basic header), plus a few shapes that only protocol text has (a JWT, an
 * OAuth field). It never guesses from words: "Acme Basic Services.mp3" is ordinary text and prints as it is.
 */

/** Known forms, longest first, so a secret that contains another is replaced whole. */
let known: string[] = [];
/** Forms too short to match inside other text safely: matched only as a whole token. */
let shortForms: RegExp | undefined;

/** Shorter than this, a secret is matched only where it stands alone (between non-alphanumerics). */
const MIN_SUBSTRING = 4;

/** Remember a secret so that every later line is scrubbed of it, whatever its length. */
export function registerSecret(value: string | undefined | null): void {
  if (!value) return;
  add(formsOf(value));
}

/** The Basic credentials an echoed `Authorization: Basic …` header would show, for the app's id and secret. */
export function registerClientCredentials(
  clientId: string | undefined,
  clientSecret: string | undefined,
): void {
  if (!clientId || !clientSecret) return;
  registerSecret(clientSecret);
  add(base64Forms(`${clientId}:${clientSecret}`));
  add(base64Forms(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`));
}

function formsOf(value: string): string[] {
  return [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1), ...base64Forms(value)];
}

function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const standard = bytes.toString("base64");
  return [standard, standard.replace(/=+$/, ""), bytes.toString("base64url")];
}

function add(forms: readonly string[]): void {
  const before = known.length;
  const merged = new Set(known);
  for (const form of forms) if (form.length > 0) merged.add(form);
  if (merged.size === before) return;
  known = [...merged].sort((a, b) => b.length - a.length);
  const short = known.filter((form) => form.length < MIN_SUBSTRING).map(escapeRegExp);
  shortForms =
    short.length > 0 ? new RegExp(`(?<![A-Za-z0-9])(?:${short.join("|")})(?![A-Za-z0-9])`, "g") : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Shapes only protocol text has: an Authorization header's credentials, a JWT, and the value of an OAuth field
// in a form body, a query or JSON. ("Basic" or "Bearer" alone is a word, and is left alone.)
const AUTHORIZATION = /\b(authorization"?\s*:\s*"?(?:bearer|basic))\s+[^\s"',;]+/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*)?/g;
const OAUTH_FIELD = /\b(access_token|refresh_token|assertion|client_secret)=([^&\s"']+)/g;
const OAUTH_JSON =
  /"(access_token|refresh_token|assertion|client_secret|clientSecret|jwt|accessToken|refreshToken)"\s*:\s*"[^"]*"/g;

export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (secret.length >= MIN_SUBSTRING && out.includes(secret)) out = out.split(secret).join("***");
  }
  if (shortForms) out = out.replace(shortForms, "***");
  out = out.replace(AUTHORIZATION, (_m, header: string) => `${header} ***`);
  out = out.replace(JWT, "***");
  out = out.replace(OAUTH_FIELD, (_m, key: string) => `${key}=***`);
  out = out.replace(OAUTH_JSON, (_m, key: string) => `"${key}":"***"`);
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
