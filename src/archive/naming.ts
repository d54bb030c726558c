import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import type { RecordingItem } from "../listing/types.js";
import { closest } from "../suggest.js";
import { wellFormed } from "../well-formed.js";
import { Zone } from "../zone.js";
import { extensionIdOf, partyNumber } from "./call-facts.js";

/**
 * File names from a template such as `{date}/{time}_{direction}_{fromNumber}_{toNumber}_{recordingId}.{ext}`.
 * A `/` in the TEMPLATE makes folders; every VALUE is sanitised so that it can never add a folder, climb out
 * of DIR, or make a name that Windows (or a shell, or a terminal) chokes on. Times are in the run's zone
 * (--timezone, UTC by default), without colons.
 */

/** A compiled `--template` . */
export interface NameTemplate {
  /** The zone of `{date}`, `{time}`, `{year}`, `{month}`, `{day}` (and of the index's date and time columns). */
  readonly zone: Zone;
  /** False for a template without `{ext}`: its files get no extension (a player cannot tell WAV from MP3). */
  readonly hasExt: boolean;
  /** The "/"-separated path for a recording, relative to DIR; `contentType` undefined = dry run. */
  render(item: RecordingItem, contentType: string | undefined): string;
  /** `a/b.mp3`, 2 → `a/b_2.mp3`. */
  withSuffix(path: string, n: number): string;
}

export const DEFAULT_TEMPLATE = "{date}/{time}_{direction}_{fromNumber}_{toNumber}_{recordingId}.{ext}";

/** Keeps a path component well under the 255-byte limit of common file systems, room left for suffixes. */
export const MAX_COMPONENT_BYTES = 200;
/** A single value (a caller name, say) gets at most this much of a component. */
const MAX_VALUE_BYTES = 100;

/** The call log does not say the content type; a dry run (which never asks for content) assumes MP3. */
const DRY_RUN_EXT = "mp3";

const PLACEHOLDERS = [
  "recordingId",
  "callId",
  "sessionId",
  "date",
  "time",
  "year",
  "month",
  "day",
  "direction",
  "fromNumber",
  "fromName",
  "toNumber",
  "toName",
  "extensionId",
  "extensionNumber",
  "extensionName",
  "type",
  "ext",
] as const;

type Placeholder = (typeof PLACEHOLDERS)[number];
type Values = Record<Placeholder, string | undefined>;

/** One piece of a path component: literal text from the template, or a placeholder. */
type Piece = { literal: string } | { placeholder: Placeholder };

/** Parse and validate a template before any request is made; problems are usage errors (exit 2). */
export function compileTemplate(source: string = DEFAULT_TEMPLATE, zone: Zone = Zone.UTC): NameTemplate {
  const components = compile(source);
  const used = new Set(
    components.flat().flatMap((piece) => ("placeholder" in piece ? [piece.placeholder] : [])),
  );
  if (!used.has("recordingId")) {
    // Without it two recordings (two calls in one second, two legs of one call) get one name, and the run
    // would number them _2, _3 in listing order: names that say nothing and differ between archives.
    throw new UsageError(
      `--template ${JSON.stringify(source)} can give two recordings the same name; add {recordingId}, e.g. ${JSON.stringify(withRecordingId(source))}`,
    );
  }
  return {
    zone,
    hasExt: used.has("ext"),
    withSuffix,
    render(item, contentType) {
      const values = valuesOf(item, contentType, zone);
      return components
        .map((pieces) =>
          safeComponent(
            pieces.map((p) => ("literal" in p ? p.literal : safeValue(values[p.placeholder]))).join(""),
          ),
        )
        .join("/");
    },
  };
}

/** `{date}/{time}.{ext}` → `{date}/{time}_{recordingId}.{ext}`: the fix the refusal suggests. */
function withRecordingId(source: string): string {
  return source.endsWith(".{ext}")
    ? `${source.slice(0, -".{ext}".length)}_{recordingId}.{ext}`
    : `${source}_{recordingId}.{ext}`;
}

function compile(source: string): Piece[][] {
  const bad = (why: string) => new UsageError(`--template ${JSON.stringify(source)}: ${why}`);
  if (source.trim() === "") throw bad("is empty");
  if (source.startsWith("/") || source.startsWith("~") || /^[A-Za-z]:/.test(source)) {
    throw bad("must be relative to the output folder");
  }
  if (source.includes("\\")) throw bad("use / to make folders, not \\");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f<>:"|?*]/.test(source.replace(/\{[^{}]*\}/g, ""))) {
    throw bad('contains a character that is not allowed in file names (<>:"|?* or a control character)');
  }
  return source.split("/").map((component) => {
    if (component === "") throw bad("has an empty folder name (// or a trailing /)");
    if (component === "." || component === "..") throw bad("must not contain . or .. folders");
    const pieces: Piece[] = [];
    let rest = component;
    while (rest.length > 0) {
      const open = rest.indexOf("{");
      const close = rest.indexOf("}");
      if (open === -1 && close === -1) {
        pieces.push({ literal: rest });
        break;
      }
      if (close !== -1 && (open === -1 || close < open)) throw bad("has an unmatched }");
      const end = rest.indexOf("}", open);
      if (end === -1) throw bad("has an unmatched {");
      if (open > 0) pieces.push({ literal: rest.slice(0, open) });
      const name = rest.slice(open + 1, end);
      if (!isPlaceholder(name)) {
        const near = closest(name, PLACEHOLDERS);
        const hint = near === undefined ? "" : ` (did you mean {${near}}?)`;
        throw bad(
          `unknown placeholder {${name}}${hint}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}`,
        );
      }
      pieces.push({ placeholder: name });
      rest = rest.slice(end + 1);
    }
    return pieces;
  });
}

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

function valuesOf(item: RecordingItem, contentType: string | undefined, zone: Zone): Values {
  const { record } = item;
  const start = new Date(record.startTime);
  // The wall clock in the run's zone; a time that occurs twice (clocks going back) still gives two names, since
  // every template carries {recordingId}.
  const wall = Number.isNaN(start.getTime()) ? undefined : zone.wall(start);
  // The same facts the manifest records (call-facts.ts), read directly: this runs for every planned recording.
  return {
    recordingId: fitId(item.recordingId),
    callId: fitId(record.id),
    sessionId: fitId(record.sessionId),
    date: wall && `${wall.year}-${wall.month}-${wall.day}`,
    time: wall && `${wall.hour}${wall.minute}${wall.second}`,
    year: wall?.year,
    month: wall?.month,
    day: wall?.day,
    direction: record.direction,
    fromNumber: partyNumber(record.from),
    fromName: record.from?.name,
    toNumber: partyNumber(record.to),
    toName: record.to?.name,
    extensionId: extensionIdOf(record),
    // From the account's directory; a record without an extension, or one the directory does not know: unknown.
    extensionNumber: item.extension?.extensionNumber,
    extensionName: item.extension?.name,
    type: item.recordingType, // the recording's own: on a transferred call each leg's may differ
    ext: extensionFor(contentType),
  };
}

/** Platform ids are ~10-20 digits; one longer than this would be cut by the value limit, and two could then meet. */
const MAX_ID_LENGTH = 64;

/**
 * An id as it goes into a name: whole when it fits, else its start and a hash of all of it, so that two long ids
 * that differ only at the end still get two names (and the same id always the same name).
 */
function fitId(value: unknown): string | undefined {
  const id = textOf(value);
  if (id === undefined || id.length <= MAX_ID_LENGTH) return id;
  return `${id.slice(0, 40)}-${createHash("sha256").update(id).digest("hex").slice(0, 16)}`;
}

/** `audio/mpeg` → mp3, `audio/wav`/`audio/x-wav` → wav, other `audio/x` → x; undefined (dry run) → mp3. */
export function extensionFor(contentType: string | undefined): string {
  if (contentType === undefined) return DRY_RUN_EXT;
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "audio/mpeg" || type === "audio/mp3") return "mp3";
  if (["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"].includes(type)) return "wav";
  const subtype = type
    .split("/")[1]
    ?.replace(/^x-/, "")
    .replace(/[^a-z0-9]/g, "");
  return subtype ? subtype.slice(0, 10) : "bin";
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we remove
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069/\\<>:"|?*]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

/**
 * One value, made harmless: no separators, no control or bidi-override characters, no Windows-reserved
 * characters, no `..`, trimmed, at most MAX_VALUE_BYTES; empty → "unknown".
 */
export function safeValue(value: unknown): string {
  const cleaned = wellFormed(textOf(value) ?? "", "_")
    .normalize("NFC")
    .replace(UNSAFE, "_")
    .replace(/\.{2,}/g, ".")
    .replace(/\s+/g, " ")
    .trim();
  const capped = truncateBytes(cleaned, MAX_VALUE_BYTES).replace(/[. ]+$/, "");
  return capped === "" ? "unknown" : capped;
}

/** A value from the server as text: strings and finite numbers (an id sent as a number); anything else is none. */
function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  return typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
}

/**
 * A whole path component (literals and values joined): not hidden or `.`/`..`, not a Windows device name
 * (`CON`, `nul.mp3`, `COM1.txt`), no trailing dot or space, at most MAX_COMPONENT_BYTES (the extension kept).
 */
function safeComponent(component: string): string {
  let name = component.replace(/^\.+/, (dots) => "_".repeat(dots.length)).replace(/[. ]+$/, "");
  const stem = name.split(".")[0]?.trimEnd() ?? "";
  if (RESERVED.test(stem)) name = `_${name}`;
  name = capComponent(name);
  return name === "" ? "unknown" : name;
}

/** Cut to MAX_COMPONENT_BYTES, keeping a short extension (".mp3") at the end. */
function capComponent(name: string, suffix = ""): string {
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && name.length - dot <= 11 ? name.slice(dot) : "";
  const stem = ext ? name.slice(0, dot) : name;
  const room = MAX_COMPONENT_BYTES - byteLength(ext) - byteLength(suffix);
  if (byteLength(stem) <= room) return `${stem}${suffix}${ext}`;
  return `${truncateBytes(stem, room).replace(/[. ]+$/, "")}${suffix}${ext}`;
}

/** `a/b.mp3`, 2 → `a/b_2.mp3`: a free name when `a/b.mp3` is taken. Still within the component limit. */
export function withSuffix(path: string, n: number): string {
  const slash = path.lastIndexOf("/");
  const folder = path.slice(0, slash + 1);
  return `${folder}${capComponent(path.slice(slash + 1), `_${n}`)}`;
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** At most `max` UTF-8 bytes, cut between graphemes (an emoji or accented letter is never split). */
function truncateBytes(text: string, max: number): string {
  if (byteLength(text) <= max) return text;
  let out = "";
  let used = 0;
  for (const { segment } of segmenter.segment(text)) {
    const size = byteLength(segment);
    if (used + size > max) break;
    out += segment;
    used += size;
  }
  return out;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
