import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { expectAllSaved, partials } from "../download/helpers.js";
import { recordingIds, setupWatch, startWatch, until, waitArchived } from "./helpers.js";

// A well-behaved service: one process per archive, a clean stop, health and metrics, one shared login.

describe("watch as a service", () => {
  it("holds the archive (a download exits 5); SIGTERM: exit 0 within 10 s, partials kept and resumed by the next run", async () => {
    // 20 s a recording: transfers are surely in flight when the signal comes.
    const e = await setupWatch({ calls: 4, recordingBytes: 3_000_000, faults: { bandwidth: 150_000 } });
    const env = e;
    const running = startWatch(env, ["--sweep", "1h"]);
    await until(
      () => partials(env.out).some((p) => p.size > 0),
      30_000,
      () => "no transfer in flight",
    );
    const download = await env.download();
    expect(download.code, download.stderr).toBe(5);
    expect(running.child.exitCode).toBeNull();

    const { code, ms } = await running.stop();
    expect(code, running.stderr()).toBe(0);
    expect(ms).toBeLessThan(10_000);
    expect(partials(env.out).length).toBeGreaterThan(0); // kept for resume
    expect(existsSync(join(env.out, ".rc-recordings", "lock"))).toBe(false);

    env.emu.control.setFaults({});
    env.emu.control.resetStats();
    const rerun = await env.download();
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectAllSaved(env);
  }, 120_000);

  it("serves /healthz and /metrics on --listen", async () => {
    const e = await setupWatch();
    const running = startWatch(e, ["--sweep", "1h", "--listen", "127.0.0.1:0"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    const address = /on http:\/\/(127\.0\.0\.1:\d+)/.exec(running.stderr())?.[1];
    expect(address).toBeDefined();

    const health = await fetch(`http://${address}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ healthy: true, reason: "ok", subscribed: true });

    const ids = recordingIds(e.emu.control.startCalls({ count: 2, talkMs: 200 }));
    await waitArchived(e, ids);
    await running.waitFor(/sweep \d+ \(event\)/);
    const metrics = await fetch(`http://${address}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await metrics.text();
    const labels = `profile="default",out="${e.out}"`;
    expect(text).toContain(`rc_recordings_watch_connected{${labels}} 1`);
    expect(text).toContain(`rc_recordings_watch_sweeps_total{${labels},reason="start"} 1`);
    expect(text).toMatch(new RegExp(`rc_recordings_watch_sweeps_total\\{${labels},reason="event"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`rc_recordings_watch_events_total\\{${labels}\\} [1-9]`));
    const saved = Number(
      new RegExp(`rc_recordings_watch_recordings_saved_total\\{${labels}\\} (\\d+)`).exec(text)?.[1],
    );
    expect(saved).toBeGreaterThanOrEqual(ids.length);
    expect(text).toMatch(/rc_recordings_watch_last_sweep_timestamp_seconds\{[^}]*\} \d/);
    expect((await fetch(`http://${address}/nothing`)).status).toBe(404);
  }, 120_000);

  it("/healthz answers 503 with the reason while sweeps fail, and 200 again once one succeeds", async () => {
    const e = await setupWatch();
    const env = e;
    const running = startWatch(env, ["--sweep", "1h", "--listen", "127.0.0.1:0"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    const address = /on http:\/\/(127\.0\.0\.1:\d+)/.exec(running.stderr())?.[1];
    const health = async () => {
      const answer = await fetch(`http://${address}/healthz`);
      return { status: answer.status, body: (await answer.json()) as { healthy: boolean; reason: string } };
    };
    expect((await health()).status).toBe(200);

    // The platform's REST API fails (503) while the push channel stays up: the event's sweep fails for good.
    env.emu.control.setFaults({ unavailable: { scope: "api", retryAfterSec: 1 } });
    const ids = recordingIds(env.emu.control.startCalls({ count: 1, talkMs: 100 }));
    await running.waitFor(/sweep \d+ \(event\):.*; failed: /, { timeoutMs: 90_000 });
    const failing = await health();
    expect(failing.status).toBe(503);
    expect(failing.body).toMatchObject({ healthy: false });
    expect(failing.body.reason).toMatch(/^last sweep failed: .*503/);

    // The platform is back: the retry after the failure archives the call and the watch is healthy again.
    env.emu.control.setFaults({});
    await waitArchived(env, ids);
    const deadline = Date.now() + 90_000;
    while ((await health()).status !== 200) {
      if (Date.now() > deadline) throw new Error(`still unhealthy:\n${running.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, 180_000);

  it("a --listen address it cannot bind is exit 2 with one line, before anything else", async () => {
    const e = await setupWatch();
    const server = createServer();
    onTestFinished(() => {
      server.close();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    e.emu.control.resetStats();
    const result = await e.run(["watch", "--out", e.out, "--listen", `127.0.0.1:${port}`]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/--listen 127\.0\.0\.1:\d+: cannot listen there \(EADDRINUSE/);
    expect(e.emu.stats.callLogRequests).toBe(0);
    const bad = await e.run(["watch", "--out", e.out, "--listen", "localhost"]);
    expect(bad.code).toBe(2);
  }, 60_000);

  it("shares the login with another process: a concurrent token status --verify, both refreshing, no new login", async () => {
    const e = await setupWatch();
    const env = e;
    const running = startWatch(env, ["--sweep", "1h"]);
    await running.waitFor(/push channel subscribed/);
    await running.waitFor(/sweep 1 \(start\)/);
    // Both processes find the access token expired at once and must refresh it, under the shared lock.
    env.emu.control.expireAccessTokens();
    const ids = recordingIds(env.emu.control.startCalls({ count: 1, talkMs: 100 }));
    const statuses = await Promise.all([0, 1, 2].map(() => env.run(["token", "status", "--verify"])));
    for (const status of statuses) expect(status.code, status.stderr).toBe(0);
    await waitArchived(env, ids);
    expect(env.emu.stats.refreshes).toBeGreaterThanOrEqual(1);
    expect(env.emu.stats.jwtLogins).toBe(0); // the one login is setup's `login`
    expect(env.emu.stats.liveSessions).toBe(1);
  }, 120_000);
});
