import { describe, expect, it } from "vitest";
import { WatchHealth } from "../../../src/watch/health.js";
import { parseListenAddress } from "../../../src/watch/listen-address.js";

describe("WatchHealth (/healthz)", () => {
  function clocked() {
    let now = Date.parse("2026-12-04T10:00:00Z");
    const health = new WatchHealth(() => now, 60_000);
    return { health, advance: (ms: number) => (now += ms) };
  }

  it("is unhealthy while starting, healthy once subscribed or swept", () => {
    const { health } = clocked();
    expect(health.status()).toMatchObject({ healthy: false, reason: expect.stringMatching(/^starting/) });
    health.swept(undefined);
    expect(health.status()).toMatchObject({ healthy: true, reason: "ok", subscribed: false });
    health.subscribed();
    expect(health.status()).toMatchObject({ healthy: true, subscribed: true });
  });

  it("says when the last sweep failed, until one succeeds", () => {
    const { health } = clocked();
    health.subscribed();
    health.swept("call-log page: HTTP 503");
    expect(health.status()).toMatchObject({
      healthy: false,
      reason: "last sweep failed: call-log page: HTTP 503",
    });
    health.swept(undefined);
    expect(health.status().healthy).toBe(true);
  });

  it("tolerates a short reconnect, then names since when the websocket is down", () => {
    const { health, advance } = clocked();
    health.subscribed();
    health.swept(undefined);
    health.down("the push connection closed (1006)");
    advance(30_000);
    health.down("push connection error: ECONNREFUSED"); // the first reason and time stay
    expect(health.status().healthy).toBe(true);
    advance(31_000);
    expect(health.status()).toMatchObject({
      healthy: false,
      subscribed: false,
      reason: "websocket disconnected since 2026-12-04T10:00:00.000Z (the push connection closed (1006))",
    });
    health.subscribed();
    expect(health.status().healthy).toBe(true);
  });
});

describe("--listen HOST:PORT", () => {
  it("takes IPv4, names and bracketed IPv6; refuses anything else", () => {
    expect(parseListenAddress("127.0.0.1:9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseListenAddress("localhost:0")).toEqual({ host: "localhost", port: 0 });
    expect(parseListenAddress("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    for (const bad of ["9464", "localhost", ":9464", "::1:9464", "host:70000", "a b:1"]) {
      expect(parseListenAddress(bad), bad).toBeUndefined();
    }
  });
});
