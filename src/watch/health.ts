/**
 * Whether the watch is doing its job, as `GET /healthz` reports it: healthy while the push channel is subscribed
 * (or was lost only moments ago: reconnecting takes seconds) and the last sweep did not fail. A watch whose
 * channel stays down still archives through its periodic sweep, but late: a monitor should hear of it.
 */

/** A channel lost for longer than this makes the watch unhealthy (a reconnect normally takes seconds). */
export const CHANNEL_DOWN_GRACE_MS = 60_000;

type Channel =
  | { state: "connecting" }
  | { state: "subscribed"; since: number }
  | { state: "down"; since: number; reason: string };

export interface HealthStatus {
  healthy: boolean;
  /** "ok", or why not (one line). */
  reason: string;
  subscribed: boolean;
  lastSweepAt: string | null;
}

export class WatchHealth {
  private channel: Channel = { state: "connecting" };
  private lastSweep: { at: number; error: string | undefined } | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly downGraceMs = CHANNEL_DOWN_GRACE_MS,
  ) {}

  subscribed(): void {
    this.channel = { state: "subscribed", since: this.now() };
  }

  /** The channel went down; the first reason and time are kept until it is up again. */
  down(reason: string): void {
    if (this.channel.state !== "down") this.channel = { state: "down", since: this.now(), reason };
  }

  swept(error: string | undefined): void {
    this.lastSweep = { at: this.now(), error };
  }

  get connected(): boolean {
    return this.channel.state === "subscribed";
  }

  status(): HealthStatus {
    const base = {
      subscribed: this.connected,
      lastSweepAt: this.lastSweep ? new Date(this.lastSweep.at).toISOString() : null,
    };
    if (this.lastSweep?.error !== undefined) {
      return { ...base, healthy: false, reason: `last sweep failed: ${this.lastSweep.error}` };
    }
    const channel = this.channel;
    if (channel.state === "down" && this.now() - channel.since > this.downGraceMs) {
      return {
        ...base,
        healthy: false,
        reason: `websocket disconnected since ${new Date(channel.since).toISOString()} (${channel.reason})`,
      };
    }
    if (channel.state !== "subscribed" && this.lastSweep === undefined) {
      return { ...base, healthy: false, reason: "starting: not subscribed and no sweep finished yet" };
    }
    return { ...base, healthy: true, reason: "ok" };
  }
}
