import { afterEach, describe, expect, it } from "vitest";
import { CALL_LOG, EXTENSION_INFO, errorOf, get, login, sleep } from "./harness.js";
import { type Emulator, start } from "./index.js";

const OTHER_JWT = "eyJvdGhlci11c2VyIn0.eyJzdWIiOiJvdGhlciJ9.c2ln";
const FOREIGN_JWT = "eyJmb3JlaWduLXVzZXIifQ.eyJzdWIiOiJmb3JlaWduIn0.c2ln";

async function recordingIdsListed(emu: Emulator, token: string): Promise<string[]> {
  const res = await get(emu, `${CALL_LOG}?recordingType=All&view=Detailed&perPage=1000`, token);
  const body = (await res.json()) as {
    records: { recording?: { id: string }; legs?: { recording?: { id: string } }[] }[];
  };
  return body.records
    .flatMap((r) => [r.recording?.id, ...(r.legs ?? []).map((l) => l.recording?.id)])
    .filter((id): id is string => id !== undefined);
}

describe("retention with compressed time", () => {
  let emu: Emulator;
  afterEach(() => emu.stop());

  it("deletes the oldest recordings one by one from startAt on: 404 CMN-102, gone from the call log", async () => {
    emu = await start({
      calls: 30,
      // Far ahead: the test starts retention itself below, and a loaded machine must not see it begin early.
      retention: { startAt: Date.now() + 3_600_000, everyMs: 200 },
      rateLimits: false,
    });
    const token = (await login(emu)).access_token;
    const all = emu.control.recordings();
    const before = await recordingIdsListed(emu, token);
    expect(new Set(before)).toEqual(new Set(all.map((r) => r.id)));
    expect(emu.control.retentionDeleted()).toBe(0);

    // Started 200 s ago at one every 100 s: three deletions are due now (at 0, 100, 200 s), the next in 100 s.
    emu.control.startRetention(100_000, Date.now() - 200_000);
    const deleted = emu.control.retentionDeleted();
    expect(deleted).toBe(3);
    const oldest = [...all].sort((a, b) => b.index - a.index);
    const oldestIndex = oldest[0]?.index ?? 0;
    const gone = oldest.filter((r) => r.index >= oldestIndex - 2);
    const after = await recordingIdsListed(emu, token);
    for (const r of gone) {
      expect(after).not.toContain(r.id);
      const res = await get(emu, r.contentUri, token);
      expect(res.status).toBe(404);
      expect((await errorOf(res)).errors[0]?.errorCode).toBe("CMN-102");
    }
    // The newest are untouched.
    const newest = oldest[oldest.length - 1] as (typeof oldest)[number];
    expect(after).toContain(newest.id);
    expect((await get(emu, newest.contentUri, token)).status).toBe(200);
    expect(emu.control.recordings().filter((r) => r.deleted).length).toBe(deleted);
  });
});

describe("several users, another account", () => {
  let emu: Emulator;
  afterEach(() => emu.stop());

  it("gives each user of the account its own Heavy bucket", async () => {
    emu = await start({
      calls: 5,
      users: [{ jwt: OTHER_JWT, ownerId: "62264425022" }],
      rateLimits: { limits: { heavy: 2 } },
    });
    const first = (await login(emu)).access_token;
    const second = (await login(emu, { assertion: OTHER_JWT })).access_token;
    for (let i = 0; i < 2; i++) expect((await get(emu, CALL_LOG, first)).status).toBe(200);
    expect((await get(emu, CALL_LOG, first)).status).toBe(429);
    const res = await get(emu, CALL_LOG, second);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-rate-limit-remaining")).toBe("1");
  });

  it("a user of another account sees its own account id, an empty call log and no content", async () => {
    emu = await start({
      calls: 5,
      users: [{ jwt: FOREIGN_JWT, ownerId: "71100000001", accountId: "99000001" }],
      rateLimits: false,
    });
    const own = (await login(emu)).access_token;
    const foreign = (await login(emu, { assertion: FOREIGN_JWT })).access_token;
    const info = async (token: string) =>
      ((await (await get(emu, EXTENSION_INFO, token)).json()) as { account: { id: string } }).account.id;
    expect(await info(own)).toBe("37439510");
    expect(await info(foreign)).toBe("99000001");
    expect(await recordingIdsListed(emu, foreign)).toEqual([]);
    const [recording] = emu.control.recordings();
    if (!recording) throw new Error("no recording");
    expect((await get(emu, recording.contentUri, foreign)).status).toBe(404);
    expect((await get(emu, recording.contentUri, own)).status).toBe(200);
  });
});

describe("retention as an option", () => {
  it("starts at startAt and goes on at its pace", async () => {
    const emu = await start({ calls: 8, retention: { startAt: Date.now() + 150, everyMs: 60_000 } });
    try {
      expect(emu.control.retentionDeleted()).toBe(0);
      await sleep(300);
      expect(emu.control.retentionDeleted()).toBe(1);
    } finally {
      await emu.stop();
    }
  });
});
