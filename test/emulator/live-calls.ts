import type { Direction, Party } from "./dataset.js";
import type { LiveCall } from "./live-call-log.js";
import type { EmulatorState } from "./state.js";

/** Party status codes of telephony-session events (the spec's list). */
export type PartyStatusCode = "Setup" | "Proceeding" | "Answered" | "Hold" | "Disconnected" | "Gone";

/** What `control.startCalls` may say about the calls it starts; every field is optional. */
export interface CallPlan {
  /** How many calls (default 1). */
  count?: number;
  /** Between two call starts (ms, default 0: all at once). */
  intervalMs?: number;
  /** Setup → Answered (ms, default 200; Proceeding halfway). */
  ringMs?: number;
  /** Answered → Disconnected (ms, default 1000). */
  talkMs?: number;
  /** The call is recorded (default true). */
  withRecording?: boolean;
  /** Recording size in bytes (default: the dataset's `recordingBytes`). */
  recordingBytes?: number;
  /** Default: alternating Inbound/Outbound. */
  direction?: Direction;
  /** No telephony events at all (a party outside the account, some transfer legs): call log only. */
  silent?: boolean;
  /** Deliver Disconnected before Answered (events can arrive out of order; `sequence` tells). */
  outOfOrder?: boolean;
  /** Call-log record and recording appear this long after Disconnected (ms, default: the emulator's option). */
  callLogDelayMs?: number;
}

/** What a started call will be known as (all ids are fixed when it is planned). */
export interface PlannedCall {
  telephonySessionId: string;
  sessionId: string;
  /** The call-log record id (listed from `appearsAt` on). */
  recordId: string;
  recordingId: string | undefined;
  extensionId: string;
  startTime: string;
  endTime: string;
  appearsAt: string;
}

/** One telephony-session event, before a subscription and a connection wrap it. */
export interface TelephonyEvent {
  /** The company extension the event's party belongs to (for extension-level event filters). */
  extensionId: string;
  body: Record<string, unknown>;
}

const MAX_CALLS_PER_PLAN = 10_000;

/**
 * Starts calls over time: every call is added to the live call log at once (its ids and times are fixed), and
 * its telephony-session events are timers that hand each event to `publish` (the WebSocket gateway).
 */
export class CallMaker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private calls = 0;

  constructor(
    private readonly state: EmulatorState,
    private readonly publish: (event: TelephonyEvent) => void,
  ) {}

  start(plan: CallPlan = {}, now = Date.now()): PlannedCall[] {
    const count = plan.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_CALLS_PER_PLAN) {
      throw new RangeError(`count must be 1..${MAX_CALLS_PER_PLAN}, got ${count}`);
    }
    const ringMs = nonNegative(plan.ringMs ?? 200, "ringMs");
    const talkMs = nonNegative(plan.talkMs ?? 1000, "talkMs");
    const intervalMs = nonNegative(plan.intervalMs ?? 0, "intervalMs");
    const delayMs = nonNegative(
      plan.callLogDelayMs ?? this.state.config.liveCalls.callLogDelayMs,
      "callLogDelayMs",
    );
    const extensions = this.state.companyExtensions.length;
    return Array.from({ length: count }, (_, i) => {
      const startMs = now + i * intervalMs;
      const n = this.calls++;
      const call = this.state.liveCalls.add({
        startMs,
        answeredMs: startMs + ringMs,
        endMs: startMs + ringMs + talkMs,
        appearsAtMs: startMs + ringMs + talkMs + delayMs,
        withRecording: plan.withRecording ?? true,
        direction: plan.direction ?? (n % 2 === 0 ? "Inbound" : "Outbound"),
        extension: n % extensions,
        silent: plan.silent ?? false,
        outOfOrder: plan.outOfOrder ?? false,
        recordingBytes: plan.recordingBytes,
      });
      if (!call.silent) this.schedule(call, now);
      return this.describe(call);
    });
  }

  /** Cancel every event not yet delivered (the emulator stops). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private describe(call: LiveCall): PlannedCall {
    const ds = this.state.dataset;
    return {
      telephonySessionId: ds.telephonySessionId(call.index),
      sessionId: ds.sessionId(call.index),
      recordId: ds.recordId(call.index),
      recordingId: call.withRecording ? ds.recordingId(call.index) : undefined,
      extensionId: ds.extensionOf(call.index).id,
      startTime: new Date(call.startMs).toISOString(),
      endTime: new Date(call.endMs).toISOString(),
      appearsAt: new Date(call.appearsAtMs).toISOString(),
    };
  }

  private schedule(call: LiveCall, now: number): void {
    const phases: { code: PartyStatusCode; at: number }[] = [
      { code: "Setup", at: call.startMs },
      { code: "Proceeding", at: (call.startMs + call.answeredMs) / 2 },
      // Out of order: Answered is delivered just after Disconnected (its sequence is still the lower one).
      { code: "Answered", at: call.outOfOrder ? call.endMs + 1 : call.answeredMs },
      { code: "Disconnected", at: call.endMs },
    ];
    phases.forEach((phase, i) => {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          this.publish(this.event(call, phase.code, i + 1));
        },
        Math.max(0, phase.at - now),
      );
      this.timers.add(timer);
    });
  }

  private event(call: LiveCall, code: PartyStatusCode, sequence: number): TelephonyEvent {
    const ds = this.state.dataset;
    const company = ds.companyParty(call.extension);
    const external = ds.externalParty(call.index);
    const inbound = call.direction === "Inbound";
    const telephonySessionId = ds.telephonySessionId(call.index);
    const recordingId = ds.recordingId(call.index);
    const recording =
      call.withRecording && (code === "Answered" || code === "Disconnected")
        ? { recordings: [{ id: recordingId, active: code === "Answered" }] }
        : {};
    const extensionId = company.extensionId ?? "";
    return {
      extensionId,
      body: {
        sequence,
        sessionId: ds.sessionId(call.index),
        telephonySessionId,
        serverId: "emulator",
        eventTime: new Date().toISOString(),
        accountId: this.state.config.accountId,
        origin: { type: "Call" },
        parties: [
          {
            id: `p-${telephonySessionId.slice(2)}-1`,
            extensionId,
            accountId: this.state.config.accountId,
            direction: call.direction,
            from: eventParty(inbound ? external : company),
            to: eventParty(inbound ? company : external),
            status: { code, rcc: false },
            missedCall: false,
            standAlone: false,
            muted: false,
            ...recording,
          },
        ],
      },
    };
  }
}

/** A party as telephony events name it: number, name, extension id (no extension number). */
function eventParty(party: Party): Record<string, string> {
  return {
    ...(party.phoneNumber !== undefined && { phoneNumber: party.phoneNumber }),
    ...(party.name !== undefined && { name: party.name }),
    ...(party.extensionId !== undefined && { extensionId: party.extensionId }),
  };
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be ≥ 0, got ${value}`);
  return value;
}
