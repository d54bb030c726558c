import { Counter, Gauge, Registry } from "prom-client";
import { METRIC_LABELS } from "../notify/metrics.js";
import type { SweepReason } from "./scheduler.js";

/**
 * What `GET /metrics` of a running watch serves (Prometheus text through prom-client's registry, like a run's
 * metrics file: docs/watch.md lists them). Counters only grow while the process lives; a restart starts them
 * at 0, which Prometheus' rate() handles.
 */
export class WatchMetrics {
  private readonly registry = new Registry();
  private readonly labels: Record<(typeof METRIC_LABELS)[number], string>;
  private readonly sweeps: Counter<"profile" | "out" | "reason">;
  private readonly sweepFailures: Counter<"profile" | "out">;
  private readonly events: Counter<"profile" | "out">;
  private readonly saved: Counter<"profile" | "out">;
  private readonly savedBytes: Counter<"profile" | "out">;
  private readonly pages: Counter<"profile" | "out">;
  private readonly lastSweep: Gauge<"profile" | "out">;
  private readonly lastSuccess: Gauge<"profile" | "out">;
  private readonly connected: Gauge<"profile" | "out">;
  private readonly awaiting: Gauge<"profile" | "out">;

  constructor(where: { profile: string; out: string }) {
    this.labels = { profile: where.profile, out: where.out };
    const registers = [this.registry];
    const labelNames = METRIC_LABELS;
    const counter = (name: string, help: string) =>
      new Counter({ name: `rc_recordings_watch_${name}`, help, labelNames, registers });
    const gauge = (name: string, help: string) =>
      new Gauge({ name: `rc_recordings_watch_${name}`, help, labelNames, registers });
    this.sweeps = new Counter({
      name: "rc_recordings_watch_sweeps_total",
      help: "Sweeps of the call log, by what started them (start, event, retry, periodic, catch-up, after-failure).",
      labelNames: [...METRIC_LABELS, "reason"],
      registers,
    });
    this.sweepFailures = counter("sweep_failures_total", "Sweeps that failed (the next one retries).");
    this.events = counter("events_total", "Telephony-session events received over the push channel.");
    this.saved = counter("recordings_saved_total", "Recordings saved since the watch started.");
    this.savedBytes = counter("saved_bytes_total", "Bytes of the recordings saved since the watch started.");
    this.pages = counter(
      "call_log_pages_total",
      "Call-log pages requested (Heavy requests besides downloads).",
    );
    this.lastSweep = gauge("last_sweep_timestamp_seconds", "When the last sweep ended (Unix time).");
    this.lastSuccess = gauge(
      "last_success_timestamp_seconds",
      "When the last sweep that did not fail ended (Unix time).",
    );
    this.connected = gauge("connected", "1 while the push channel is subscribed, else 0.");
    this.awaiting = gauge(
      "awaiting_recordings",
      "Recordings an event named that the call log does not list yet.",
    );
    // Every series exists from the start at 0: an alert on a counter's rate (or increase) sees no series at all
    // for one never incremented, and a failure that happens once would then never show as a rise from 0.
    for (const series of [this.sweepFailures, this.events, this.saved, this.savedBytes, this.pages]) {
      series.inc(this.labels, 0);
    }
    this.connected.set(this.labels, 0);
    this.awaiting.set(this.labels, 0);
  }

  event(): void {
    this.events.inc(this.labels);
  }

  channel(up: boolean): void {
    this.connected.set(this.labels, up ? 1 : 0);
  }

  sweep(
    reason: SweepReason,
    result: { failed: boolean; saved: number; bytes: number; pages: number; awaiting: number },
  ): void {
    const at = Date.now() / 1000;
    this.sweeps.inc({ ...this.labels, reason });
    this.saved.inc(this.labels, result.saved);
    this.savedBytes.inc(this.labels, result.bytes);
    this.pages.inc(this.labels, result.pages);
    this.lastSweep.set(this.labels, at);
    this.awaiting.set(this.labels, result.awaiting);
    if (result.failed) this.sweepFailures.inc(this.labels);
    else this.lastSuccess.set(this.labels, at);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
