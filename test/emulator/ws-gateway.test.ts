import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { CALL_LOG, get, login, sleep } from "./harness.js";
import { type Emulator, type EmulatorOptions, start } from "./index.js";

type Meta = Record<string, unknown> & { type: string };
type Message = [Meta, Record<string, unknown>];

/** A plain `ws` client that queues every message, so a test can wait for the next one that matches. */
class Client {
  readonly messages: Message[] = [];
  private readonly waiters = new Set<() => void>();
  closed: { code: number } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as Message);
      for (const wake of this.waiters) wake();
    });
    ws.on("close", (code) => {
      this.closed = { code };
      for (const wake of this.waiters) wake();
    });
  }

  static open(url: string, options: { autoPong?: boolean } = {}): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      const client = new Client(ws);
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  /** The first queued message (from `from` on) that matches, waiting up to `timeoutMs`. */
  async next(match: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) {
        this.messages.splice(this.messages.indexOf(found), 1);
        return found;
      }
      if (this.closed || Date.now() > deadline) throw new Error("no such message");
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
        this.waiters.add(wake);
      });
    }
  }

  send(message: unknown[]): void {
    this.ws.send(JSON.stringify(message));
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    if (!this.closed) throw new Error("still open");
    return this.closed;
  }

  async subscribe(filters = [TELEPHONY]): Promise<Message> {
    const messageId = `m-${Math.random()}`;
    this.send([
      { type: "ClientRequest", messageId, method: "POST", path: "/restapi/v1.0/subscription/" },
      { eventFilters: filters, deliveryMode: { transportType: "WebSocket" } },
    ]);
    return this.next(([meta]) => meta.type === "ClientResponse" && meta.messageId === messageId);
  }
}

const TELEPHONY = "/restapi/v1.0/account/~/telephony/sessions";
const isNotification = ([meta]: Message) => meta.type === "ServerNotification";
const statusOf = (m: Message) =>
  ((m[1].body as { parties: { status: { code: string } }[] }).parties[0]?.status.code ?? "") as string;
const sequenceOf = (m: Message) => (m[1].body as { sequence: number }).sequence;

async function wsToken(emu: Emulator, accessToken: string): Promise<Response> {
  return fetch(`${emu.server}/restapi/oauth/wstoken`, {
    method: "POST",
    headers: { authorization: `Bearer ${accessToken}` },
  });
}

describe("WebSocket gateway", () => {
  let emu: Emulator | undefined;
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await emu?.stop();
    emu = undefined;
  });

  async function setup(options: EmulatorOptions = {}) {
    emu = await start({ rateLimits: false, callLogDelayMs: 300, ...options });
    const accessToken = (await login(emu)).access_token;
    const connect = async (wsc?: string, url?: string) => {
      const token = (await (await wsToken(emu as Emulator, accessToken)).json()) as {
        uri: string;
        ws_access_token: string;
      };
      const client = await Client.open(
        url ?? `${token.uri}?access_token=${token.ws_access_token}${wsc ? `&wsc=${wsc}` : ""}`,
      );
      clients.push(client);
      const details = await client.next(([meta]) => meta.type === "ConnectionDetails");
      return { client, details, wsc: (details[0].wsc as { token: string }).token };
    };
    return { emu, accessToken, connect };
  }

  it("issues ws tokens in the Auth group, to a bearer only", async () => {
    const { emu, accessToken } = await setup({ rateLimits: {} });
    const res = await wsToken(emu, accessToken);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-rate-limit-group")).toBe("auth");
    const body = (await res.json()) as { uri: string; ws_access_token: string; expires_in: number };
    expect(body.uri).toBe(`${emu.server.replace(/^http/, "ws")}/ws`);
    expect(body.expires_in).toBe(600);
    expect(body.ws_access_token.length).toBeGreaterThan(20);
    const anonymous = await fetch(`${emu.server}/restapi/oauth/wstoken`, { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(emu.stats.ws.tokens).toBe(1);
  });

  it("refuses an unknown or expired ws token with HTTP 401 before the handshake", async () => {
    const { emu, accessToken } = await setup({ webSocket: { tokenTtlSec: 0.3 } });
    const base = emu.server.replace(/^http/, "ws");
    await expect(Client.open(`${base}/ws?access_token=nope`)).rejects.toThrow("HTTP 401");
    const token = (await (await wsToken(emu, accessToken)).json()) as {
      uri: string;
      ws_access_token: string;
    };
    await sleep(400);
    await expect(Client.open(`${token.uri}?access_token=${token.ws_access_token}`)).rejects.toThrow(
      "HTTP 401",
    );
    expect(emu.stats.ws.refused).toBe(2);
  });

  it("sends ConnectionDetails first, subscribes over ClientRequest, and refuses other filters", async () => {
    const { emu, connect } = await setup({ rateLimits: {} });
    const { client, details } = await connect();
    expect(details[0]).toMatchObject({ type: "ConnectionDetails", status: 200, wsc: { sequence: 1 } });
    expect(details[1]).toMatchObject({ recoveryTimeout: 180, recoveryBufferSize: 100, idleTimeout: 1800 });
    expect(details[1].recoveryState).toBeUndefined();
    const response = await client.subscribe();
    expect(response[0]).toMatchObject({ type: "ClientResponse", status: 200 });
    expect(response[1]).toMatchObject({ status: "Active", eventFilters: [TELEPHONY] });
    expect(emu.stats.requestsByGroup.medium).toBe(1);
    const bad = await client.subscribe(["/restapi/v1.0/account/~/extension/~/message-store"]);
    expect(bad[0].status).toBe(400);
    expect(bad[1]).toMatchObject({ errors: [{ errorCode: "CMN-101", parameterName: "eventFilters" }] });
  });

  it("tells a call's life in telephony-session events; its record and recording appear after Disconnected", async () => {
    // A delay long enough that "not yet" is still true on a loaded machine once Disconnected has arrived.
    const { emu, accessToken, connect } = await setup({ callLogDelayMs: 4000 });
    const { client } = await connect();
    await client.subscribe();
    const [call] = emu.control.startCalls({ talkMs: 100 });
    if (!call?.recordingId) throw new Error("no call");
    const events = [];
    for (let i = 0; i < 4; i++) events.push(await client.next(isNotification));
    expect(events.map(statusOf)).toEqual(["Setup", "Proceeding", "Answered", "Disconnected"]);
    expect(events.map(sequenceOf)).toEqual([1, 2, 3, 4]);
    const last = events[3] as Message;
    expect(last[1]).toMatchObject({ event: `/restapi/v1.0/account/${"37439510"}/telephony/sessions` });
    expect(last[1].body).toMatchObject({
      telephonySessionId: call.telephonySessionId,
      parties: [{ extensionId: call.extensionId, recordings: [{ id: call.recordingId, active: false }] }],
    });
    // The wsc sequence goes up with every message that carries it: ConnectionDetails, then the four events.
    expect((last[0].wsc as { sequence: number }).sequence).toBe(5);
    const listed = async () => {
      const page = (await (await get(emu, `${CALL_LOG}?recordingType=All`, accessToken)).json()) as {
        records: { telephonySessionId: string }[];
      };
      return page.records.some((r) => r.telephonySessionId === call.telephonySessionId);
    };
    const content = `${emu.media}/restapi/v1.0/account/~/recording/${call.recordingId}/content`;
    expect(await listed()).toBe(false);
    expect((await get(emu, content, accessToken)).status).toBe(404);
    await sleep(Date.parse(call.appearsAt) - Date.now() + 50);
    expect(await listed()).toBe(true);
    const res = await get(emu, content, accessToken);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).length).toBe(emu.control.expectedBytes(call.recordingId));
    expect(emu.control.recordings().some((r) => r.id === call.recordingId)).toBe(true);
  });

  it("can deliver events out of order (sequence tells), and switch them off", async () => {
    const { emu, connect } = await setup();
    const { client } = await connect();
    await client.subscribe();
    emu.control.startCalls({ talkMs: 50, outOfOrder: true });
    const events = [];
    for (let i = 0; i < 4; i++) events.push(await client.next(isNotification));
    expect(events.map(statusOf)).toEqual(["Setup", "Proceeding", "Disconnected", "Answered"]);
    expect(events.map(sequenceOf)).toEqual([1, 2, 4, 3]);
    emu.control.setEvents(false);
    emu.control.startCalls({ talkMs: 50 });
    await expect(client.next(isNotification, 600)).rejects.toThrow("no such message");
  });

  it("answers Heartbeat messages, sends ping frames and drops a client that never answers them", async () => {
    const { emu, connect } = await setup({ webSocket: { pingIntervalMs: 100, pongTimeoutMs: 200 } });
    const { client } = await connect();
    client.send([{ type: "Heartbeat", messageId: "hb-1" }]);
    expect((await client.next(([meta]) => meta.type === "Heartbeat"))[0]).toMatchObject({
      messageId: "hb-1",
    });
    let pings = 0;
    client.ws.on("ping", () => pings++);
    // Every 100 ms in theory; a loaded machine may delay timers, so wait (bounded) for the second one.
    for (let waited = 0; pings < 2 && waited < 10_000; waited += 50) await sleep(50);
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(client.closed).toBeUndefined();
    const token = (await (await wsToken(emu, (await login(emu)).access_token)).json()) as {
      uri: string;
      ws_access_token: string;
    };
    const mute = await Client.open(`${token.uri}?access_token=${token.ws_access_token}`, { autoPong: false });
    clients.push(mute);
    expect((await mute.waitClosed()).code).toBe(1006);
    expect(emu.stats.ws.pongTimeouts).toBeGreaterThanOrEqual(1);
  });

  it("closes an idle connection with WSG-902 and every connection after the absolute timeout with WSG-903", async () => {
    const { connect } = await setup({ webSocket: { idleTimeoutSec: 0.3, absoluteTimeoutSec: 1.2 } });
    const idle = (await connect()).client;
    const busy = (await connect()).client;
    const beat = setInterval(() => busy.send([{ type: "Heartbeat", messageId: "x" }]), 100);
    try {
      const error = await idle.next(([meta]) => meta.type === "Error");
      expect(error[1]).toMatchObject({ errorCode: "WSG-902" });
      await idle.waitClosed();
      const absolute = await busy.next(([meta]) => meta.type === "Error", 3000);
      expect(absolute[1]).toMatchObject({ errorCode: "WSG-903" });
      await busy.waitClosed();
    } finally {
      clearInterval(beat);
    }
  });

  it("recovers a dropped connection with wsc and replays the events it missed", async () => {
    const { emu, connect } = await setup();
    const first = await connect();
    await first.client.subscribe();
    expect(emu.control.dropConnections()).toBe(1);
    await first.client.waitClosed();
    emu.control.startCalls({ count: 2, talkMs: 50 });
    await sleep(400);
    expect(emu.control.webSocketStatus()).toMatchObject({ open: 0, sessions: 1, subscriptions: 1 });
    const second = await connect(first.wsc);
    expect(second.details[1]).toMatchObject({ recoveryState: "Successful" });
    expect(second.wsc).toBe(first.wsc);
    const replayed = [];
    for (let i = 0; i < 8; i++) replayed.push(await second.client.next(isNotification));
    expect(replayed.filter((m) => statusOf(m) === "Disconnected")).toHaveLength(2);
    expect(emu.stats.ws.notificationsReplayed).toBe(8);
    expect(emu.stats.ws.recoveries.Successful).toBe(1);
  });

  it("replays at most recoveryBufferSize events, and fails recovery after recoveryTimeout", async () => {
    const { emu, connect } = await setup({ webSocket: { recoveryBufferSize: 3, recoveryTimeoutSec: 1 } });
    const first = await connect();
    await first.client.subscribe();
    emu.control.dropConnections();
    emu.control.startCalls({ count: 2, talkMs: 50 });
    await sleep(400);
    const second = await connect(first.wsc);
    expect(second.details[1]).toMatchObject({ recoveryState: "Successful" });
    const replayed = [];
    for (let i = 0; i < 3; i++) replayed.push(await second.client.next(isNotification));
    expect(replayed.map(statusOf).at(-1)).toBe("Disconnected");
    await expect(second.client.next(isNotification, 300)).rejects.toThrow("no such message");
    emu.control.dropConnections();
    await sleep(1300);
    const third = await connect(second.wsc);
    expect(third.details[1]).toMatchObject({ recoveryState: "Failed", recoveryErrorCode: "WSG-1005" });
    expect(third.wsc).not.toBe(second.wsc);
    expect(emu.stats.ws.recoveries).toEqual({ Successful: 1, Failed: 1 });
  });

  it("starts calls over HTTP and reports the plan", async () => {
    const { emu } = await setup();
    const res = await fetch(`${emu.server}/__emulator/control/startCalls`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ count: 3, intervalMs: 10, withRecording: false }),
    });
    const body = (await res.json()) as { ok: boolean; result: { recordingId?: string; recordId: string }[] };
    expect(body.ok).toBe(true);
    expect(body.result).toHaveLength(3);
    expect(body.result.every((c) => c.recordingId === undefined)).toBe(true);
    expect(new Set(body.result.map((c) => c.recordId)).size).toBe(3);
  });
});
