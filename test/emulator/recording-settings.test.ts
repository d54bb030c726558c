import { afterEach, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login } from "./harness.js";
import { type Emulator, start } from "./index.js";

// GET /restapi/v1.0/account/~/call-recording (spec §10): the account's recording settings, Light group, and the
// retention period the platform applies.

const SETTINGS = "/restapi/v1.0/account/~/call-recording";
const DAY = 86_400_000;

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.stop();
  emu = undefined;
});

async function settingsOf(e: Emulator, token: string): Promise<Response> {
  return get(e, SETTINGS, token);
}

async function listedRecordingIds(e: Emulator, token: string): Promise<string[]> {
  const res = await get(
    e,
    `${CALL_LOG}?recordingType=All&view=Detailed&perPage=1000&dateFrom=2000-01-01T00:00:00Z`,
    token,
  );
  const body = (await res.json()) as {
    records: { recording?: { id: string }; legs?: { recording?: { id: string } }[] }[];
  };
  const ids = body.records
    .flatMap((r) => [r.recording?.id, ...(r.legs ?? []).map((l) => l.recording?.id)])
    .filter((id): id is string => id !== undefined);
  return [...new Set(ids)]; // both records of an internal call carry its recording
}

describe("recording settings", () => {
  it("answers the platform's defaults in the Light group", async () => {
    emu = await start({ calls: 4 });
    const token = (await login(emu)).access_token;
    const res = await settingsOf(emu, token);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-rate-limit-group")?.toLowerCase()).toBe("light");
    expect(await res.json()).toEqual({
      onDemand: { enabled: true },
      automatic: {
        enabled: true,
        outboundCallTones: false,
        outboundCallAnnouncement: false,
        allowMute: false,
        extensionCount: expect.any(Number),
      },
      retentionPeriod: 90,
      maxNumberLimit: 100_000,
    });
  });

  it("takes its values from the options and from the control endpoint, and keeps only what the period keeps", async () => {
    emu = await start({
      calls: 40,
      spanMs: 20 * DAY,
      recordingSettings: { retentionPeriod: 30, maxNumberLimit: 500 },
    });
    const token = (await login(emu)).access_token;
    expect(await (await settingsOf(emu, token)).json()).toMatchObject({
      retentionPeriod: 30,
      maxNumberLimit: 500,
    });
    const all = await listedRecordingIds(emu, token);
    expect(all.length).toBe(emu.control.recordings().length);

    // Over HTTP, as another process would: 10 days keeps the newer half of a 20-day log.
    const changed = await fetch(`${emu.server}/__emulator/control/setRecordingSettings`, {
      method: "POST",
      body: JSON.stringify({ retentionPeriod: 10 }),
    });
    expect(((await changed.json()) as { result: { retentionPeriod: number } }).result.retentionPeriod).toBe(
      10,
    );
    expect(await (await settingsOf(emu, token)).json()).toMatchObject({
      retentionPeriod: 10,
      maxNumberLimit: 500,
    });
    const kept = await listedRecordingIds(emu, token);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(all.length);
    const gone = emu.control.recordings().filter((r) => r.deleted);
    expect(gone.map((r) => r.id).sort()).toEqual(all.filter((id) => !kept.includes(id)).sort());
    const [old] = gone;
    if (!old) throw new Error("nothing expired");
    const content = await get(emu, old.contentUri, token);
    expect(content.status).toBe(404);
    expect((await errorOf(content)).errors[0]?.errorCode).toBe("CMN-102");
    expect(() => emu?.control.setRecordingSettings({ retentionPeriod: 0 })).toThrow(/retentionPeriod/);
  });

  it("answers 403 CMN-401 when told to, and to an app without ReadAccounts", async () => {
    emu = await start({
      calls: 2,
      recordingSettings: { forbidden: true },
      apps: [
        {
          clientId: "narrow",
          clientSecret: "narrow-secret",
          permissions: ["ReadCallLog", "ReadCallRecording"],
        },
      ],
    });
    const token = (await login(emu)).access_token;
    const refused = await settingsOf(emu, token);
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).errors[0]?.errorCode).toBe("CMN-401");
    emu.control.setRecordingSettings({ forbidden: false });
    expect((await settingsOf(emu, token)).status).toBe(200);

    const narrowLogin = await fetch(`${emu.server}/restapi/oauth/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("narrow:narrow-secret").toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: emu.credentials.jwt,
      }).toString(),
    });
    const narrow = ((await narrowLogin.json()) as { access_token: string }).access_token;
    const res = await settingsOf(emu, narrow);
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/ReadAccounts/);
  });
});
