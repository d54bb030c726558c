import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { WebSocketServer } from "ws";
import { CLI, outputOf, spawnCli } from "../../helpers/cli.js";
import { sigtermOnce, startSilentServer, startStallingBodyServer } from "../../helpers/stall.js";
import { json, parseJson } from "../../helpers/tamper-proxy.js";
import { type DownloadEnv, setupDownload } from "../download/helpers.js";
import { setupProxiedDownload } from "../download/proxied.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const requestsMade = (env: DownloadEnv) =>
  Object.values(env.emu.stats.requestsByGroup).reduce((sum, n) => sum + n, 0);

describe("--out that cannot be a folder", () => {
  it("fails with exit 2 and one line naming it, before any request (/proc, a file, below a file, empty)", async () => {
    e = await setupDownload({ calls: 2 });
    const file = join(e.dir, "a-file");
    writeFileSync(file, "x");
    const cases: [string, RegExp][] = [
      ["/proc", /^rc-recordings: --out \/proc is on the kernel's proc file system/],
      ["/proc/self/nothing-here", /kernel's proc file system/],
      [file, /is a file, not a folder$/],
      [join(file, "below"), /cannot be a folder: .*a-file is a file$/],
      ["", /^rc-recordings: --out is empty/],
    ];
    for (const [out, expected] of cases) {
      // The whole run is bounded: /proc used to spin forever in a recursive mkdir.
      const r = await e.run(["download", "--out", out], { timeoutMs: 20_000 });
      expect(r.signal, out).toBeNull();
      expect(r.code, out).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines, out).toHaveLength(1);
      expect(lines[0], out).toMatch(expected);
    }
    expect(requestsMade(e)).toBe(0);
  }, 120_000);

  it.runIf(process.platform === "linux")(
    "names a folder it may not write in (run as an unprivileged user)",
    async () => {
      e = await setupDownload({ calls: 1 });
      const locked = join(e.dir, "locked");
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      chmodSync(e.dir, 0o755);
      // root may write anywhere: the check runs as `nobody` then (setpriv ships with util-linux).
      const asRoot = process.getuid?.() === 0;
      const command = asRoot
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath]
        : [process.execPath];
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          command[0] as string,
          [...command.slice(1), CLI, "download", "--out", join(locked, "calls")],
          {
            env: {
              PATH: process.env.PATH,
              HOME: "/nonexistent",
              // nobody's own (absent) config folder: root's is not readable to it, and that is a separate error.
              XDG_CONFIG_HOME: join(e?.dir ?? "", "nobody-config"),
            },
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let stderr = "";
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
        });
        child.on("close", (code) => resolve({ code, stderr }));
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim()).toBe(
        `rc-recordings: --out ${join(locked, "calls")}: no permission to create it in ${locked}`,
      );
    },
    30_000,
  );
});

describe("stdout closed early", () => {
  it("`download --dry-run | head -n 1` ends quietly: no EPIPE, no stack", async () => {
    e = await setupDownload({ calls: 3000, withRecordingRatio: 1 });
    const child = spawn(
      "sh",
      [
        "-c",
        `"${process.execPath}" "${CLI}" download --quiet --dry-run --from 30d --out "${e?.out}" | head -n 1`,
      ],
      { env: { ...e?.env, PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const r = await outputOf(child, 60_000);
    expect(r.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0); // head's
  }, 60_000);
});

// Peers that accept a connection and then say nothing (or send the headers and never the body): every command
// ends within its documented bound (docs/architecture.md, "Every wait and what bounds it"), and SIGTERM during
// the stall ends it at once.

describe("a ping URL that answers the headers and never the body", () => {
  it("costs the run at most the ping budget: the download ends with its own exit code", async () => {
    e = await setupDownload({ calls: 2, withRecordingRatio: 1 });
    const monitor = await startStallingBodyServer();
    onTestFinished(() => monitor.stop());
    const r = await e.download(["--ping-url", `${monitor.origin}/ping/check`], { timeoutMs: 90_000 });
    // Was: the socket of the unfinished answer kept the process alive for good (killed by the test's guard).
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0);
    expect(monitor.held).toBe(2); // start and success: both answered 200, neither finished
  }, 120_000);
});

describe("logout against a token endpoint that never answers", () => {
  it("fails after one try of 15 s and forgets nothing; SIGTERM during the revoke is exit 130 at once", async () => {
    e = await setupDownload({ calls: 1 });
    const env = e;
    env.emu.control.setFaults({ silentTokenEndpoint: true });
    const r = await env.run(["logout"], { timeoutMs: 90_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim()).toMatch(/could not revoke the session: network error: no answer within 15 s$/);
    expect(readdirSync(env.profilesDir)).toContain("default.json"); // a failed revoke forgets nothing

    const held = env.emu.stats.tokenRequestsHeld;
    const stopped = await sigtermOnce(
      spawnCli(["logout"], { env: env.env, timeoutMs: 90_000 }),
      () => env.emu.stats.tokenRequestsHeld > held,
      "the revoke request",
    );
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.ms, stopped.stderr).toBeLessThan(10_000);
    expect(readdirSync(env.profilesDir)).toContain("default.json");
  }, 150_000);
});

describe("watch with a push channel that stops answering", () => {
  /** `watch` through a proxy that hands out `gateway` as the ws token's uri (or holds the ws token request). */
  async function watchThrough(gateway: string | "hold-ws-token") {
    const p = await setupProxiedDownload({ calls: 2, withRecordingRatio: 1, transferredCalls: false });
    onTestFinished(() => p.stop());
    p.proxy.set(async (req, ctx) => {
      if (req.url.pathname !== "/restapi/oauth/wstoken") return undefined;
      if (gateway === "hold-ws-token") return "handled"; // read, never answered
      return json({ ...parseJson<Record<string, unknown>>(await ctx.forward()), uri: gateway });
    });
    const spawned = spawnCli(["watch", "--out", p.out], { env: p.env, timeoutMs: 120_000 });
    let stderr = "";
    spawned.child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    return { p, spawned, stderr: () => stderr };
  }

  it("a gateway that goes silent after the subscription (ignoring even the close): SIGTERM ends watch at once (exit 0)", async () => {
    const gateway = await startMuteGateway();
    onTestFinished(() => gateway.stop());
    const w = await watchThrough(gateway.uri);
    const r = await sigtermOnce(
      w.spawned,
      () => /push channel subscribed/.test(w.stderr()),
      "the subscription",
    );
    expect(gateway.muted).toBe(1);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.code, r.stderr).toBe(0); // watch's clean stop
    // Was: up to 30 s (the wait for the next message, then ws's wait for the gateway's close frame).
    expect(r.ms, r.stderr).toBeLessThan(10_000);
  }, 150_000);

  it("a WebSocket upgrade never answered, or a ws token request never answered: SIGTERM ends watch at once", async () => {
    const silent = await startSilentServer();
    onTestFinished(() => silent.stop());
    const upgrade = await watchThrough(`${silent.origin.replace(/^http/, "ws")}/ws`);
    const r = await sigtermOnce(upgrade.spawned, () => silent.held > 0, "the upgrade");
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms, r.stderr).toBeLessThan(10_000);

    const token = await watchThrough("hold-ws-token");
    const held = () => token.p.proxy.requests.some((q) => q.url.pathname === "/restapi/oauth/wstoken");
    const t = await sigtermOnce(token.spawned, held, "the ws token request");
    expect(t.code, t.stderr).toBe(0);
    expect(t.ms, t.stderr).toBeLessThan(10_000);
  }, 150_000);
});

/**
 * A push gateway that connects, sends ConnectionDetails, answers the subscription, and then reads nothing more
 * (its socket paused: no Heartbeat answered, no close frame returned), as a gateway that hangs does.
 */
async function startMuteGateway(): Promise<{ uri: string; muted: number; stop(): Promise<void> }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const gateway = { uri: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, muted: 0, stop };
  server.on("connection", (ws) => {
    ws.send(JSON.stringify([{ type: "ConnectionDetails", wsc: { token: "wsc-1", sequence: 1 } }, {}]));
    ws.on("message", (data) => {
      const [meta] = JSON.parse(String(data)) as [{ type?: string; messageId?: string }];
      if (meta.type !== "ClientRequest") return;
      ws.send(JSON.stringify([{ type: "ClientResponse", messageId: meta.messageId, status: 200 }, {}]));
      gateway.muted += 1;
      (ws as unknown as { _socket: Socket })._socket.pause();
    });
  });
  function stop(): Promise<void> {
    for (const client of server.clients) client.terminate();
    return new Promise((resolve) => server.close(() => resolve()));
  }
  return gateway;
}
