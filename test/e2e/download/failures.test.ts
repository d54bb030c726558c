import { existsSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DownloadSummary } from "../../../src/run/stats.js";
import {
  type DownloadEnv,
  expectAllSaved,
  manifestOf,
  partials,
  setupDownload,
  summaryOf,
  waitFor,
} from "./helpers.js";

let e: DownloadEnv | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await e?.stop();
  e = undefined;
});

/** A server that is not RingCentral and records what it is sent. */
async function strangerServer(host: string) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { "content-type": "audio/mpeg" }).end("stolen");
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://${host}:${(server.address() as AddressInfo).port}`, seen };
}

describe("download: failures", () => {
  it("fails a 404 recording with exit 3, names it in failures, and saves the rest", async () => {
    e = await setupDownload();
    const gone = e.emu.control.recordings()[1]?.id as string;
    e.emu.control.deleteRecording(gone);
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(3);
    const summary = summaryOf(result.stdout);
    expect(summary.failed).toBe(1);
    expect(summary.failures).toEqual([
      {
        recordingId: gone,
        startTime: expect.any(String),
        reason: "deleted",
        error: expect.stringContaining("404"),
      },
    ]);
    expect(result.stderr).toContain(gone);
    await expectAllSaved(e, [gone]);
  });

  it("a recording refused with 403 (the app lacks the permission) holds the mark: fetched once it is given (issue 21)", async () => {
    const app = { clientId: "noRecordingsApp0001", clientSecret: "noRecordingsSecret-0001" };
    e = await setupDownload({ apps: [{ ...app, permissions: ["ReadAccounts", "ReadCallLog"] }] });
    const narrow = { RC_APP_CLIENT_ID: app.clientId, RC_APP_CLIENT_SECRET: app.clientSecret };
    const login = await e.run(["login"], { env: narrow });
    expect(login.code, login.stderr).toBe(0);
    const refused = await e.download(["--json"], { env: narrow });
    expect(refused.code, refused.stderr).toBe(3);
    const recordings = e.emu.control.recordings().length;
    expect(summaryOf(refused.stdout)).toMatchObject({
      listed: recordings,
      downloaded: 0,
      failed: recordings,
    });
    expect(summaryOf(refused.stdout).failures?.[0]).toMatchObject({
      reason: "failed",
      error: expect.stringContaining("403"),
    });
    // The app gets the permission (here: the login through the full app); the next nightly run, without
    // --from, lists from where the refused recordings start and saves every one.
    const relogin = await e.run(["login"]);
    expect(relogin.code, relogin.stderr).toBe(0);
    const nightly = await e.download(["--json"]);
    expect(nightly.code, nightly.stderr).toBe(0);
    expect(summaryOf(nightly.stdout)).toMatchObject({ downloaded: recordings, failed: 0 });
    await expectAllSaved(e);
  });

  it("refuses a contentUri on a foreign host without sending the token", async () => {
    e = await setupDownload();
    const stranger = await strangerServer("127.0.0.2");
    const target = e.emu.control.recordings()[0]?.id as string;
    e.emu.control.setForeignContent(target, stranger.origin);
    const result = await e.download(["--json"]);
    expect(result.code, result.stderr).toBe(3);
    expect(summaryOf(result.stdout).failures).toEqual([
      expect.objectContaining({
        recordingId: target,
        reason: "failed",
        error: expect.stringMatching(/refusing to send the access token/),
      }),
    ]);
    expect(stranger.seen).toEqual([]);
    await expectAllSaved(e, [target]);
  });

  it("with --json still prints what was saved when the login ends mid-run, then exits 4", async () => {
    e = await setupDownload({ calls: 30, recordingBytes: 20_000, faults: { bandwidth: 100_000 } });
    const env = e;
    const run = env.spawnDownload(["--json", "--concurrency", "1"]);
    await waitFor(() => manifestOf(env.out).length > 0, 8000, "a first saved recording");
    const revoked = await env.run(["token", "revoke"]); // e.g. an admin ends the login during a nightly run
    expect(revoked.code, revoked.stderr).toBe(0);
    const result = await run.result;
    expect(result.code, result.stderr).toBe(4);
    const summary = JSON.parse(result.stdout) as DownloadSummary & { error?: string };
    expect(summary.error).toMatch(/rc-recordings login/);
    expect(summary.downloaded).toBeGreaterThan(0);
    expect(summary.downloaded).toBe(manifestOf(env.out).length);
    expect(summary.downloaded).toBeLessThan(env.emu.control.recordings().length);
  });

  it("rejects bad input with exit 2 and one line, before any request", async () => {
    e = await setupDownload();
    const cases = [
      ["--from", "2026-02-30"],
      ["--from", "1h", "--to", "2h"],
      ["--to", "yesterday"],
      ["--concurrency", "0"],
      ["--template", "{nope}.{ext}"],
      ["--template", "../{recordingId}.{ext}"],
      ["--type", "Everything"],
    ];
    for (const args of cases) {
      const result = await e.download(args);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(2);
      expect(result.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
    expect(e.emu.stats.callLogRequests).toBe(0);
    expect(existsSync(e.out)).toBe(false);
  });

  it("lets one run per folder: a second exits 5 naming the holder; SIGTERM stops cleanly; a rerun completes", async () => {
    // 20 s a recording: on a loaded machine the second process must still find the first at work.
    e = await setupDownload({ calls: 4, recordingBytes: 3_000_000, faults: { bandwidth: 150_000 } });
    const env = e;
    const first = env.spawnDownload();
    await waitFor(() => partials(env.out).some((p) => p.size > 0), 8000, "a transfer in flight");

    const second = await env.download();
    expect(second.code, second.stderr).toBe(5);
    expect(first.child.exitCode).toBeNull(); // at once, not after the holder is done
    expect(second.stderr).toContain(`pid ${first.child.pid}`);

    first.child.kill("SIGTERM");
    const stopped = await first.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(partials(env.out).length).toBeGreaterThan(0); // kept for resume
    expect(existsSync(join(env.out, ".rc-recordings", "lock"))).toBe(false);

    env.emu.control.setFaults({});
    const rerun = await env.download(["--json"]);
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectAllSaved(env);
  });

  it("exits 4 when nobody logged in, before touching DIR", async () => {
    e = await setupDownload();
    const result = await e.run(["download", "--out", e.out], {
      env: { XDG_CONFIG_HOME: `${e.dir}/elsewhere` },
    });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/rc-recordings login/);
    expect(existsSync(e.out)).toBe(false);
  });
});
