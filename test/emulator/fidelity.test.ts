import { get as httpsGet } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALL_LOG, errorOf, get, login } from "./harness.js";
import { type Emulator, start } from "./index.js";

// Corners a spec-validating proxy found outside the CLI's path (issue 9, item 9), and the TLS mode.

interface Record_ {
  id: string;
  uri: string;
  type: string;
  internalType: string;
  sessionId: string;
  telephonySessionId: string;
  shortRecording?: boolean;
  from: { phoneNumber?: string };
  to: { phoneNumber?: string };
  extension: { uri: string };
  recording?: { uri: string };
}

const INTERNAL_TYPES = [
  "Local",
  "LongDistance",
  "International",
  "Sip",
  "RingMe",
  "RingOut",
  "Usual",
  "TollFreeNumber",
  "VerificationNumber",
  "Vma",
  "LocalNumber",
  "ImsOutgoing",
  "ImsIncoming",
  "Unknown",
];

let emu: Emulator;
let token: string;
let records: Record_[];

beforeAll(async () => {
  emu = await start({ calls: 40, rateLimits: false });
  token = (await login(emu)).access_token;
  const page = (await (await get(emu, `${CALL_LOG}?perPage=100`, token)).json()) as { records: Record_[] };
  records = page.records;
});
afterAll(async () => {
  await emu.stop();
});

describe("emulator fidelity", () => {
  it("Fax records carry an internalType the spec allows, and shortRecording is omitted when false", () => {
    expect(records.some((r) => r.type === "Fax")).toBe(true);
    for (const record of records) {
      expect(INTERNAL_TYPES).toContain(record.internalType);
      expect(record).not.toHaveProperty("shortRecording");
    }
  });

  it("every uri it hands out resolves (call-log/{id}, extension, recording)", async () => {
    const sample = records.filter((r) => r.recording).slice(0, 3);
    for (const record of sample) {
      for (const uri of [record.uri, record.extension.uri, record.recording?.uri as string]) {
        const res = await get(emu, uri, token);
        expect(res.status, uri).toBe(200);
        await res.arrayBuffer();
      }
      const one = (await (await get(emu, record.uri, token)).json()) as Record_;
      expect(one.id).toBe(record.id);
    }
    // Every record's extension.uri, also that of an extension the directory no longer lists (Disabled).
    for (const uri of new Set(records.map((r) => r.extension.uri))) {
      const res = await get(emu, uri, token);
      expect(res.status, uri).toBe(200);
      const extension = (await res.json()) as { status: string };
      expect(["Enabled", "Disabled"]).toContain(extension.status);
    }
    const unknown = await get(emu, "/restapi/v1.0/account/~/call-log/NOPEx999", token);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).errors[0]?.errorCode).toBe("CMN-102");
  });

  it("invented error codes never reuse a published code that means something else", async () => {
    const unknownRoute = await get(emu, "/restapi/v1.0/nothing-here", token);
    expect((await errorOf(unknownRoute)).errors[0]?.errorCode).toBe("EMU-404");
    const otherExtension = await get(emu, "/restapi/v1.0/account/~/extension/12345", token);
    expect((await errorOf(otherExtension)).errors[0]?.errorCode).toBe("CMN-102");
    const wrongMethod = await fetch(`${emu.server}/restapi/v1.0/account/~`, { method: "DELETE" });
    expect((await errorOf(wrongMethod)).errors[0]?.errorCode).toBe("EMU-405");
  });

  it("applies the call-log filters phoneNumber, sessionId, telephonySessionId and extensionNumber", async () => {
    const target = records.find(
      (r) => r.from.phoneNumber?.startsWith("+") || r.to.phoneNumber?.startsWith("+"),
    );
    const phone = (target?.from.phoneNumber ?? target?.to.phoneNumber ?? "").slice(1);
    const query = async (params: string) =>
      ((await (await get(emu, `${CALL_LOG}?perPage=100&${params}`, token)).json()) as { records: Record_[] })
        .records;
    const byPhone = await query(`phoneNumber=${phone}`);
    expect(byPhone.length).toBeGreaterThan(0);
    expect(byPhone.length).toBeLessThan(records.length);
    for (const r of byPhone) expect([r.from.phoneNumber, r.to.phoneNumber]).toContain(`+${phone}`);
    // The spec's phoneNumber is a string without a pattern: the E.164 spelling with "+" is the same number.
    expect(await query(`phoneNumber=${encodeURIComponent(`+${phone}`)}`)).toEqual(byPhone);
    expect(await query("phoneNumber=%2B16505551000")).toBeInstanceOf(Array);
    const one = records[5] as Record_;
    const bySession = await query(`sessionId=${one.sessionId}`);
    expect(bySession.length).toBeGreaterThan(0);
    expect(bySession.length).toBeLessThan(records.length);
    for (const r of bySession) expect(r.sessionId).toBe(one.sessionId);
    const byTelephony = await query(`telephonySessionId=${one.telephonySessionId}`);
    expect(byTelephony.length).toBeGreaterThan(0);
    expect(byTelephony.length).toBeLessThan(records.length);
    for (const r of byTelephony) expect(r.telephonySessionId).toBe(one.telephonySessionId);
    expect(await query("extensionNumber=999")).toEqual([]);
    // Calls belong to the company's extensions in turn (directory.test.ts has the details).
    const own = await query("extensionNumber=101");
    expect(own.length).toBe(
      records.filter((r) => r.extension.uri.endsWith(`/${emu.control.directory()[0]?.id}`)).length,
    );
    expect(own.length).toBeGreaterThan(0);
    // transport (PSTN, VoIP) filters every call log, the extension's own too; every emulated call is PSTN.
    const own_ = "/restapi/v1.0/account/~/extension/~/call-log";
    for (const path of [CALL_LOG, own_]) {
      const all = (await (await get(emu, `${path}?perPage=100`, token)).json()) as { records: Record_[] };
      const list = async (transport: string) =>
        (
          (await (await get(emu, `${path}?perPage=100&transport=${transport}`, token)).json()) as {
            records: Record_[];
          }
        ).records;
      expect(all.records.length).toBeGreaterThan(0);
      expect(await list("VoIP")).toEqual([]);
      expect((await list("PSTN")).length).toBe(all.records.length);
      const bad = await get(emu, `${path}?transport=Carrier`, token);
      expect(bad.status).toBe(400);
      await bad.arrayBuffer();
    }
    const both = await get(emu, `${CALL_LOG}?extensionNumber=101&sessionId=${one.sessionId}`, token);
    expect((await errorOf(both)).errors[0]?.errorCode).toBe("CLG-110");
  });
});

describe("emulator over TLS with advertised host names", () => {
  it("serves HTTPS under the names it advertises, signed by its throw-away CA", async () => {
    const tls = await start({ tls: true, apiHostName: "platform.ringcentral.biz", rateLimits: false });
    try {
      expect(tls.server).toMatch(/^https:\/\/platform\.ringcentral\.biz:\d+$/);
      const port = new URL(tls.server).port;
      const status = await new Promise<number>((resolve, reject) => {
        httpsGet(
          {
            host: "127.0.0.1",
            port,
            path: "/restapi/v1.0/account/~",
            servername: "platform.ringcentral.biz",
            ca: tls.ca,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        ).on("error", reject);
      });
      expect(status).toBe(401); // reached over verified TLS; no token given
      // Without the CA the certificate is not trusted: checks are on.
      const refused = await new Promise<string>((resolve) => {
        httpsGet({ host: "127.0.0.1", port, path: "/", servername: "platform.ringcentral.biz" }, () =>
          resolve("accepted"),
        ).on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
      expect(refused).toMatch(/CERT|SIGNATURE|ISSUER/);
    } finally {
      await tls.stop();
    }
  });
});

describe("app permissions (the spec's x-app-permission) and the platform's clock", () => {
  it("an endpoint whose permission the app lacks answers 403 CMN-401 naming it; the token's scope lists what it has", async () => {
    const app = { clientId: "callLogOnlyApp", clientSecret: "callLogOnlySecret" };
    const limited = await start({
      calls: 4,
      rateLimits: false,
      apps: [{ ...app, permissions: ["ReadCallLog"] }],
    });
    try {
      const res = await fetch(`${limited.server}/restapi/oauth/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${app.clientId}:${app.clientSecret}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
          assertion: limited.credentials.jwt,
        }).toString(),
      });
      const body = (await res.json()) as { access_token: string; scope: string };
      expect(body.scope).toBe("ReadCallLog");
      expect((await get(limited, CALL_LOG, body.access_token)).status).toBe(200);
      for (const [path, permission] of [
        ["/restapi/v1.0/account/~/extension/~", "ReadAccounts"],
        ["/restapi/v1.0/account/~/extension", "ReadAccounts"],
        ["/restapi/v1.0/account/~", "ReadAccounts"],
      ] as const) {
        const refused = await get(limited, path, body.access_token);
        expect(refused.status, path).toBe(403);
        const error = (await refused.json()) as {
          permissionName: string;
          errors: { errorCode: string; permissionName: string }[];
        };
        expect(error.errors[0]).toMatchObject({ errorCode: "CMN-401", permissionName: permission });
        expect(error.permissionName).toBe(permission);
      }
      const recording = limited.control.recordings()[0];
      if (!recording) throw new Error("no recording");
      expect(
        (await get(limited, `/restapi/v1.0/account/~/recording/${recording.id}`, body.access_token)).status,
      ).toBe(403);
    } finally {
      await limited.stop();
    }
  });

  it("clockSkewMs moves every response's Date header on both origins", async () => {
    emu.control.setFaults({ clockSkewMs: -3_600_000 });
    try {
      for (const url of [`${emu.server}/restapi/v1.0/account/~/extension/~`, `${emu.media}/nothing`]) {
        const res = await get(emu, url, token);
        const date = Date.parse(res.headers.get("date") ?? "");
        expect(Math.abs(Date.now() - 3_600_000 - date), url).toBeLessThan(5_000);
      }
    } finally {
      emu.control.setFaults({});
    }
    const date = Date.parse(
      (await get(emu, "/restapi/v1.0/account/~/extension/~", token)).headers.get("date") ?? "",
    );
    expect(Math.abs(Date.now() - date)).toBeLessThan(5_000);
  });
});
