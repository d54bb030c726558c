import type { StartedEmulator } from "./emulator-protocol.js";

/**
 * A JWT login made by the harness itself: the "ready token" of the curl peer, or the session of "another
 * client" (e.g. a dashboard) whose survival the token scenario checks. Returns the access token.
 */
export async function harnessLogin(emulator: StartedEmulator): Promise<string> {
  const { clientId, clientSecret, jwt } = emulator.credentials;
  const response = await fetch(`${emulator.server}/restapi/oauth/token`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: jwt }),
  });
  if (!response.ok) throw new Error(`harness login failed: HTTP ${response.status}`);
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}
