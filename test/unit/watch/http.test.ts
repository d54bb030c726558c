import { afterEach, describe, expect, it } from "vitest";
import { registerSecret } from "../../../src/log/redact.js";
import type { HealthStatus } from "../../../src/watch/health.js";
import { type StatusServer, serveStatus } from "../../../src/watch/http.js";

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const status = (reason: string): HealthStatus => ({
  healthy: false,
  reason,
  subscribed: false,
  lastSweepAt: null,
});

describe("the watch's status server", () => {
  it("serves /healthz (503 with the reason) and /metrics; a secret in either is redacted", async () => {
    const secret = "ws-token-4f9a2c7e1b";
    registerSecret(secret);
    server = await serveStatus(
      { host: "127.0.0.1", port: 0 },
      {
        health: () => status(`websocket disconnected (wss://gw.example/ws?access_token=${secret})`),
        metrics: async () => ({ contentType: "text/plain", text: `x{url="${secret}"} 1\n` }),
      },
    );
    const health = await fetch(`http://${server.address}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as HealthStatus;
    expect(body.reason).toContain("access_token=***");
    expect(body.reason).not.toContain(secret);
    const metrics = await (await fetch(`http://${server.address}/metrics`)).text();
    expect(metrics).not.toContain(secret);
    expect((await fetch(`http://${server.address}/other`)).status).toBe(404);
    expect((await fetch(`http://${server.address}/healthz`, { method: "POST" })).status).toBe(405);
  });
});
