import type { StartedEmulator } from "./emulator-protocol.js";

export interface HarnessTokens {
  accessToken: string;
  refreshToken: string;
}

function tokenRequest(emulator: StartedEmulator, form: Record<string, string>): Promise<Response> {
  const { clientId, clientSecret } = emulator.credentials;
  return fetch(`${emulator.server}/restapi/oauth/token`, {
    method: "POST",
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
}

/**
 * A JWT login made by the harness itself: the "ready token" of the curl peer, or the session of "another
 * client" (e.g. a dashboard) whose survival the token scenario checks.
 */
export async function harnessLogin(emulator: StartedEmulator): Promise<HarnessTokens> {
  const response = await tokenRequest(emulator, {
    grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
    assertion: emulator.credentials.jwt,
  });
  if (!response.ok) throw new Error(`harness login failed: HTTP ${response.status}`);
  const body = (await response.json()) as { access_token: string; refresh_token: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/**
 * Whether the harness's session is still alive: its refresh token still works. (Its access token may have been
 * expired on purpose; an evicted or killed session answers 400 invalid_grant.)
 */
export async function sessionSurvives(emulator: StartedEmulator, tokens: HarnessTokens): Promise<boolean> {
  const response = await tokenRequest(emulator, {
    grant_type: "refresh_token",
    refresh_token: tokens.refreshToken,
  });
  await response.arrayBuffer();
  return response.ok;
}
