import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALL_LOG, EXTENSION_INFO, errorOf, get, login } from "./harness.js";
import { type Emulator, start } from "./index.js";

function control(emu: { server: string }, action: string, body?: unknown): Promise<Response> {
  return fetch(`${emu.server}/__emulator/control/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function stats(emu: { server: string }): Promise<Record<string, unknown>> {
  return (await (await fetch(`${emu.server}/__emulator/stats`)).json()) as Record<string, unknown>;
}

describe("HTTP stats and controls", () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await start({ rateLimits: { limits: { heavy: 100 } } });
  });
  afterAll(() => emu.stop());

  it("exposes stats as JSON, live and resettable", async () => {
    const token = (await login(emu)).access_token;
    await (await get(emu, CALL_LOG, token)).arrayBuffer();
    const snapshot = await stats(emu);
    expect(snapshot).toMatchObject({ jwtLogins: 1, callLogRequests: 1, liveSessions: 1 });
    expect(emu.stats.snapshot()).toMatchObject({ jwtLogins: 1, liveSessions: 1 });
    expect((await control(emu, "resetStats")).status).toBe(200);
    expect(await stats(emu)).toMatchObject({ jwtLogins: 0, callLogRequests: 0, liveSessions: 1 });
    // Emulator endpoints are neither rate limited nor counted.
    expect((await stats(emu)).requestsByGroup).toEqual({ auth: 0, light: 0, medium: 0, heavy: 0 });
  });

  it("runs token controls over HTTP", async () => {
    const token = (await login(emu)).access_token;
    await control(emu, "expireAccessTokens");
    expect((await errorOf(await get(emu, EXTENSION_INFO, token))).errors[0]?.errorCode).toBe("OAU-128");
    const fresh = (await login(emu)).access_token;
    const alive = (await (await control(emu, "sessionAlive", { accessToken: fresh })).json()) as {
      result: boolean;
    };
    expect(alive.result).toBe(true);
    await control(emu, "killSessions");
    expect((await errorOf(await get(emu, EXTENSION_INFO, fresh))).errors[0]?.errorCode).toBe("OAU-213");
  });

  it("sets faults and rate limits, deletes recordings, reports expected content", async () => {
    const token = (await login(emu)).access_token;
    const list = (await (await control(emu, "recordings")).json()) as {
      result: { id: string; contentUri: string }[];
    };
    const [a, b] = list.result;
    if (!a || !b) throw new Error("need recordings");
    await control(emu, "setFaults", { unavailable: { firstRequests: 1, retryAfterSec: 2 } });
    expect((await get(emu, a.contentUri, token)).status).toBe(503);
    const ok = await get(emu, a.contentUri, token);
    const digest = (await (await control(emu, "expectedSha256", { id: a.id })).json()) as { result: string };
    const { createHash } = await import("node:crypto");
    expect(
      createHash("sha256")
        .update(Buffer.from(await ok.arrayBuffer()))
        .digest("hex"),
    ).toBe(digest.result);
    const slice = await control(emu, "recordingContent", { id: a.id, start: 0, end: 16 });
    expect(Buffer.from(await slice.arrayBuffer()).equals(emu.control.recordingContent(a.id, 0, 16))).toBe(
      true,
    );
    await control(emu, "deleteRecording", { id: b.id });
    expect((await get(emu, b.contentUri, token)).status).toBe(404);
    await control(emu, "setRateLimits", { windowSec: 30, limits: { heavy: 1 } });
    expect((await get(emu, CALL_LOG, token)).headers.get("x-rate-limit-window")).toBe("30");
    expect((await get(emu, CALL_LOG, token)).status).toBe(429);
    await control(emu, "setRateLimits", false);
    expect((await get(emu, CALL_LOG, token)).status).toBe(200);
    expect((await control(emu, "noSuchAction")).status).toBe(404);
  });
});

describe("npm run emulator (main.ts)", () => {
  it("prints one JSON line with origins and credentials, serves, and stops on SIGTERM", async () => {
    const main = fileURLToPath(new URL("./main.ts", import.meta.url));
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const child = spawn(tsx, [main, "--port", "0", "--calls", "4", "--heavy-limit", "3", "--window", "7"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((resolve) => lines.once("line", resolve));
      const info = JSON.parse(first) as Record<string, string>;
      expect(Object.keys(info).sort()).toEqual(["clientId", "clientSecret", "jwt", "media", "server"]);
      const emu = {
        server: info.server ?? "",
        media: info.media ?? "",
        credentials: {
          clientId: info.clientId ?? "",
          clientSecret: info.clientSecret ?? "",
          jwt: info.jwt ?? "",
        },
      } as Emulator;
      const token = (await login(emu)).access_token;
      const res = await get(emu, CALL_LOG, token);
      expect(res.headers.get("x-rate-limit-limit")).toBe("3");
      expect(res.headers.get("x-rate-limit-window")).toBe("7");
      expect(((await res.json()) as { records: unknown[] }).records).toHaveLength(4);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 20_000);
});
