import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { makeTlsMaterial } from "../../emulator/tls.js";
import { type EmulatorEnv, startEmulatorEnv } from "../../helpers/emulator-env.js";
import { type DownloadEnv, expectAllSaved, setupDownload, summaryOf } from "../download/helpers.js";

// An AT&T Office@Hand / Verizon account over real TLS: the emulator serves https://platform.ringcentral.biz
// and https://media.ringcentral.biz (throw-away CA, trusted through NODE_EXTRA_CA_CERTS; the names resolve to
// loopback inside the CLI child only). Certificate checks stay on everywhere.

let e: DownloadEnv | EmulatorEnv | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await e?.stop();
  e = undefined;
});

describe("segregated environment (.biz) over TLS", () => {
  it("logs in, downloads byte-exact, verifies and revokes as https://platform.ringcentral.biz", async () => {
    const d = await setupDownload({ calls: 8 }, { segregated: true });
    e = d;
    expect(d.emu.server).toMatch(/^https:\/\/platform\.ringcentral\.biz:\d+$/);
    expect(d.emu.media).toMatch(/^https:\/\/media\.ringcentral\.biz:\d+$/);
    const result = await d.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(summaryOf(result.stdout).failed).toBe(0);
    await expectAllSaved(d);
    expect(d.emu.stats.contentRequestsCompleted).toBe(d.emu.control.recordings().length);

    const status = await d.run(["token", "status", "--verify", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ server: d.emu.server, verified: true });

    const revoke = await d.run(["token", "revoke"]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(d.emu.stats.revokes).toBe(1);
    expect((await d.run(["token", "status"])).code).toBe(4);
  });

  it("fails with one clear line when the server's certificate is signed by a CA it does not trust", async () => {
    const env = await startEmulatorEnv({ segregated: true });
    e = env;
    const stranger = makeTlsMaterial(["platform.ringcentral.biz"]);
    cleanups.push(() => stranger.cleanup());
    const result = await env.run(["login"], { env: { NODE_EXTRA_CA_CERTS: stranger.caFile } });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/TLS certificate of platform\.ringcentral\.biz:\d+ is not trusted/);
    expect(lines[0]).toContain("NODE_EXTRA_CA_CERTS");
    expect(env.emu.stats.jwtLogins).toBe(0);
    expect((await env.run(["token", "status"])).code).toBe(4);
  });

  it("refuses to run with NODE_TLS_REJECT_UNAUTHORIZED=0: exit 2, one line, nothing sent, nothing stored", async () => {
    const env = await startEmulatorEnv({ segregated: true });
    e = env;
    // A server whose certificate nothing trusts: with checks off, the JWT would go to it and the login be stored.
    const stranger = makeTlsMaterial(["platform.ringcentral.biz"]);
    cleanups.push(() => stranger.cleanup());
    const insecure = { NODE_EXTRA_CA_CERTS: stranger.caFile, NODE_TLS_REJECT_UNAUTHORIZED: "0" };
    for (const args of [["login"], ["download", "--out", env.dir], ["token", "status", "--verify"]]) {
      for (const format of ["text", "json"]) {
        const result = await env.run([...args, "--log-format", format], { env: insecure });
        expect(result.code, result.stderr).toBe(2);
        const lines = result.stderr.trim().split("\n");
        expect(lines).toHaveLength(1); // Node's own warning about the variable never reaches stderr
        expect(lines[0]).toContain("NODE_TLS_REJECT_UNAUTHORIZED=0");
        expect(lines[0]).toContain("NODE_EXTRA_CA_CERTS");
        if (format === "json") expect(JSON.parse(lines[0] ?? "")).toMatchObject({ level: "error" });
      }
    }
    expect(env.emu.stats.jwtLogins).toBe(0);
    expect(env.emu.stats.snapshot().requestsByGroup).toEqual({ auth: 0, light: 0, medium: 0, heavy: 0 });
    expect((await env.run(["token", "status"])).code).toBe(4);
  });

  it("follows a CDN redirect without the token: no Authorization header, no access_token reaches the CDN", async () => {
    const d = await setupDownload({ calls: 8 }, { segregated: true });
    e = d;
    d.emu.control.setFaults({ redirectContent: {} });
    const result = await d.download(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(d);
    const count = d.emu.control.recordings().length;
    expect(d.emu.stats.faultsInjected.redirect).toBe(count);
    expect(d.emu.stats.cdnRequests).toBe(count);
    expect(d.emu.stats.cdnAuthorizationHeaders).toBe(0);
    expect(d.emu.stats.cdnAccessTokenQueries).toBe(0);
  });

  it("never follows a token-endpoint redirect: nothing is sent to the target, nothing is stored", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const foreign = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => foreign.close(() => resolve())));
    const target = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/restapi/oauth/token`;
    const env = await startEmulatorEnv({
      segregated: true,
      emulator: { faults: { tokenRedirect: { location: target } } },
    });
    e = env;
    const result = await env.run(["login"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`redirecting to 127.0.0.1:${new URL(target).port}`);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(env.emu.stats.tokenRequestsRedirected).toBe(1);
    expect(seen).toEqual([]);
    expect((await env.run(["token", "status"])).code).toBe(4);
  });
});
