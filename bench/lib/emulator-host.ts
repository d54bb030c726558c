/**
 * Child-process entry: hosts the emulator OUTSIDE the measured client, so on a 2-core machine the server's CPU
 * and heap never count against the tool being measured. Talks to the harness over the IPC channel
 * (see emulator-protocol.ts) and records a request timeline from Node's HTTP diagnostics channels.
 */
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Emulator, start } from "../../test/emulator/index.js";
import type {
  ControlCall,
  HostReply,
  HostRequest,
  StartedEmulator,
  TimelineEntry,
} from "./emulator-protocol.js";

let emulator: Emulator | undefined;
let timeline: TimelineEntry[] = [];
const open = new WeakMap<IncomingMessage, TimelineEntry>();

subscribe("http.server.request.start", (message) => {
  const { request } = message as { request: IncomingMessage };
  const entry: TimelineEntry = {
    at: Date.now(),
    end: undefined,
    method: request.method ?? "GET",
    path: (request.url ?? "/").split("?")[0] ?? "/",
    status: undefined,
  };
  if (entry.path.startsWith("/__emulator/")) return; // the harness's own calls are not traffic
  open.set(request, entry);
  timeline.push(entry);
});

subscribe("http.server.response.finish", (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  const entry = open.get(request);
  if (!entry) return;
  entry.end = Date.now();
  entry.status = response.statusCode;
});

function running(): Emulator {
  if (!emulator) throw new Error("emulator not started");
  return emulator;
}

function control(call: ControlCall): unknown {
  const { control } = running();
  switch (call.action) {
    case "expireAccessTokens":
      return control.expireAccessTokens();
    case "recordings":
      return control.recordings();
    case "startRetention":
      return control.startRetention(call.everyMs, Date.now() + call.afterMs);
    case "retentionDeleted":
      return control.retentionDeleted();
    case "resetStats":
      return control.resetStats();
    case "setRateLimits":
      return control.setRateLimits(call.limits ?? {});
    case "startCalls":
      return control.startCalls(call.plan);
    case "dropConnections":
      return control.dropConnections();
  }
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case "start": {
      emulator = await start(request.options);
      const started: StartedEmulator = {
        server: emulator.server,
        media: emulator.media,
        credentials: emulator.credentials,
      };
      return started;
    }
    case "stats":
      return running().stats.snapshot();
    case "control":
      return control(request.call);
    case "timeline": {
      const taken = timeline;
      timeline = [];
      return taken;
    }
    case "stop":
      await emulator?.stop();
      emulator = undefined;
      setImmediate(() => process.disconnect?.());
      return null;
  }
}

process.on("message", (raw) => {
  const { id, ...request } = raw as HostRequest & { id: number };
  handle(request).then(
    (result) => process.send?.({ id, ok: true, result } satisfies HostReply),
    (error: unknown) => process.send?.({ id, ok: false, error: String(error) } satisfies HostReply),
  );
});
