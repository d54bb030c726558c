import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RecordingSummary } from "../../test/emulator/index.js";
import type {
  ControlCall,
  HostOptions,
  HostReply,
  HostRequest,
  StartedEmulator,
  StatsSnapshot,
  TimelineEntry,
} from "./emulator-protocol.js";

const HOST = fileURLToPath(new URL("./emulator-host.ts", import.meta.url));

/** The emulator running in its own process, driven over IPC. */
export interface BenchEmulator extends StartedEmulator {
  stats(): Promise<StatsSnapshot>;
  control(call: ControlCall): Promise<unknown>;
  recordings(): Promise<RecordingSummary[]>;
  /** Requests since the previous call (cleared on read). */
  timeline(): Promise<TimelineEntry[]>;
  stop(): Promise<void>;
}

export async function startEmulator(options: HostOptions): Promise<BenchEmulator> {
  const child = fork(HOST, [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const ask = requester(child);
  try {
    // No leg-only (transferred) calls: the peers, written like RingCentral's samples, read only a record's own
    // recording, and every tool must be measured on the same set of recordings.
    const started = (await ask({
      op: "start",
      options: { transferredCalls: false, ...options },
    })) as StartedEmulator;
    return {
      ...started,
      stats: async () => (await ask({ op: "stats" })) as StatsSnapshot,
      control: (call) => ask({ op: "control", call }),
      recordings: async () =>
        (await ask({ op: "control", call: { action: "recordings" } })) as RecordingSummary[],
      timeline: async () => (await ask({ op: "timeline" })) as TimelineEntry[],
      stop: async () => {
        await ask({ op: "stop" }).catch(() => undefined);
        if (child.exitCode === null) child.kill();
      },
    };
  } catch (error) {
    child.kill();
    throw error;
  }
}

/** Request/response over the IPC channel; a dying host fails every pending request. */
function requester(child: ChildProcess): (request: HostRequest) => Promise<unknown> {
  let next = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.on("message", (raw) => {
    const reply = raw as HostReply;
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(`emulator host: ${reply.error}`));
  });
  child.on("exit", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`emulator host exited (${code})`));
    pending.clear();
  });
  return (request) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ id, ...request });
    });
}
