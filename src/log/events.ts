/**
 * Every structured event of `--log-format json`, and its fields: the one place they are declared. A log line
 * carries at most one event; the logger writes its fields beside `time`, `level` and `msg` (in text mode the
 * message says it for people, and the fields are not printed). The table in docs/logs-and-events.md lists exactly
 * these events and fields (test/unit/log/events.test.ts checks it), so log shippers can rely on it.
 *
 * Declared as data, not only as types, so that the docs test can read them; the types below are derived from it:
 * an emitter that misspells a field, forgets a required one or gives a field of another event does not compile.
 */

/** A field's JSON type; `?` marks one that a line may leave out. */
type FieldKind = "string" | "number" | "string?" | "number?";

interface EventSpec {
  readonly fields: Readonly<Record<string, FieldKind>>;
  /**
   * Written without the `event` field itself, only its fields (the 401 recovery line was structured before events
   * were named; its consumers match on `cause`).
   */
  readonly unnamed?: true;
}

export const LOG_EVENTS = {
  /** A recording was saved and verified (debug under a terminal's spinner, where a line each would scroll). */
  saved: { fields: { recordingId: "string", path: "string", bytes: "number", sha256: "string" } },
  /** A recording already in the archive (debug: a nightly run skips nearly everything). */
  skipped: { fields: { recordingId: "string", path: "string?" } },
  /** A recording failed for this run (error). */
  failed: { fields: { recordingId: "string", error: "string" } },
  /** A request is tried again after `waitMs` (debug, or info when the wait is long enough to matter). */
  retry: { fields: { error: "string", waitMs: "number", recordingId: "string?" } },
  /** A wait long enough to matter: how long, why, what the server asked for when capped, the rate-limit group. */
  wait: { fields: { waitMs: "number", reason: "string", requestedWaitMs: "number?", group: "string?" } },
  /** At most once a minute without a terminal: saved so far and, once the listing is complete, what remains. */
  progress: { fields: { downloaded: "number", remaining: "number?" } },
  /** `watch`: one sweep of the call log ended (why it ran, what it did, the call-log pages it cost). */
  sweep: {
    fields: {
      reason: "string",
      listed: "number",
      downloaded: "number",
      skipped: "number",
      failed: "number",
      pages: "number",
      durationMs: "number",
      error: "string?",
    },
  },
  /** A 401 was recovered from: its likely cause, a hint, the platform's error code. */
  recovery: { unnamed: true, fields: { cause: "string", hint: "string", errorCode: "string?" } },
} as const satisfies Record<string, EventSpec>;

export type LogEventName = keyof typeof LOG_EVENTS;

type Specs = typeof LOG_EVENTS;
type ValueOf<K extends FieldKind> = K extends "string" | "string?" ? string : number;
type FieldsOf<F extends Readonly<Record<string, FieldKind>>> = {
  -readonly [N in keyof F as F[N] extends `${string}?` ? never : N]: ValueOf<F[N]>;
} & {
  -readonly [N in keyof F as F[N] extends `${string}?` ? N : never]?: ValueOf<F[N]> | undefined;
};

/** The fields of one event, without its name. */
export type EventFields<E extends LogEventName> = FieldsOf<Specs[E]["fields"]>;

/** One event as an emitter writes it: `{ event: "saved", recordingId, path, bytes, sha256 }`. */
export type LogEvent = { [E in LogEventName]: { event: E } & EventFields<E> }[LogEventName];

/** The JSON fields a line gets from its event: the fields that are set, and the event's name unless unnamed. */
export function eventFields(event: LogEvent): Record<string, string | number> {
  const spec: EventSpec = LOG_EVENTS[event.event];
  const out: Record<string, string | number> = spec.unnamed ? {} : { event: event.event };
  for (const name of Object.keys(spec.fields)) {
    const value = (event as unknown as Record<string, string | number | undefined>)[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
