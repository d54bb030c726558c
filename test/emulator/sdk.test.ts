import { SDK } from "@ringcentral/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, start } from "./index.js";

/** The official JS SDK is a second independent client: the emulator must speak its dialect too. */
describe("@ringcentral/sdk against the emulator", () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  it("logs in, lists, downloads, recovers from a 401 by refreshing, and revokes on logout", async () => {
    emu = await start({ rateLimits: false, minAccessTokenTtl: 1 });
    const sdk = new SDK({
      server: emu.server,
      clientId: emu.credentials.clientId,
      clientSecret: emu.credentials.clientSecret,
      cachePrefix: `emu-${Date.now()}`,
    });
    const platform = sdk.platform();
    await platform.login({ jwt: emu.credentials.jwt });
    const log = (await (
      await platform.get("/restapi/v1.0/account/~/call-log", { recordingType: "All" })
    ).json()) as {
      records: { recording: { id: string; contentUri: string } }[];
    };
    const recording = log.records[0]?.recording;
    if (!recording) throw new Error("no recording listed");
    const content = await platform.get(recording.contentUri);
    const bytes = Buffer.from(await content.arrayBuffer());
    expect(bytes.equals(emu.control.recordingContent(recording.id))).toBe(true);

    emu.control.expireAccessTokens();
    const ext = (await (await platform.get("/restapi/v1.0/account/~/extension/~")).json()) as { id: number };
    expect(String(ext.id)).toBe((await platform.auth().data()).owner_id);
    expect(emu.stats.unauthorized["OAU-128"]).toBe(1);
    expect(emu.stats.refreshes).toBe(1);
    // The SDK's 401 retry cancels the token (expires_in = -1) and asks the refresh for that TTL.
    expect(emu.stats.accessTokenTtlRequested).toContain(-1);

    await platform.logout();
    expect(emu.stats.revokes).toBe(1);
    expect(emu.stats.liveSessions).toBe(0);
  });
});
