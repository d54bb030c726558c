import { describe, expect, it } from "vitest";
import {
  compileTemplate,
  extensionFor,
  MAX_COMPONENT_BYTES,
  safeValue,
  withSuffix,
} from "../../../src/archive/naming.js";
import { absoluteUnder, relPath } from "../../../src/destination/rel-path.js";
import { UsageError } from "../../../src/errors.js";
import type { CallParty, RecordingItem } from "../../../src/listing/types.js";

function item(from: CallParty = {}, to: CallParty = {}): RecordingItem {
  return {
    recordingId: "2800000007",
    contentUri: "https://media.ringcentral.com/restapi/v1.0/account/1/recording/2800000007/content",
    recordingType: "Automatic",
    record: {
      id: "ASaxDDkSZ5s42MA",
      sessionId: "401234",
      startTime: "2026-11-25T21:30:05.123Z",
      direction: "Inbound",
      from: { phoneNumber: "+16505550100", name: "Alice", ...from },
      to: { extensionNumber: "101", name: "Bob", ...to },
      extension: { id: 62264425011 },
      // A record's own recording is not the item's (the item may be one of its legs'): {type} ignores it.
      recording: { id: "2800000001", type: "OnDemand", contentUri: "x" },
    },
  };
}

const HOSTILE = [
  "../../etc/passwd",
  "a/b",
  'C:\\temp\\evil:stream "x"',
  '"Quoted" <b>Bold</b> | pipe * star ?',
  "tab\there\nnewline\u0007bel\u0000nul",
  "CON",
  "nul",
  "com1",
  ".hidden.",
  "..",
  ".",
  "   ",
  "trailing dot. ",
  "right\u202Eto-left",
  "😀👨‍👩‍👧‍👦 family",
  "Zoë Ångström-Łukasiewicz",
  "山田 太郎".repeat(40),
  "x".repeat(330),
];

// biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that control characters are gone
const UNSAFE_CHARS = /[\u0000-\u001f\u007f<>:"|?*\\\u202e]/;

describe("templates", () => {
  it("names the extension from the directory, unknown without it, and never lets its name add a folder", () => {
    const template = compileTemplate("{extensionNumber}/{extensionName}/{recordingId}.{ext}");
    const named = {
      ...item(),
      extension: { id: "62264425011", extensionNumber: "102", name: "Sales / EMEA" },
    };
    expect(template.render(named, "audio/mpeg")).toBe("102/Sales _ EMEA/2800000007.mp3");
    expect(template.render(item(), "audio/mpeg")).toBe("unknown/unknown/2800000007.mp3");
    for (const name of HOSTILE) {
      const path = template.render({ ...named, extension: { ...named.extension, name } }, "audio/wav");
      expect(path.split("/")).toHaveLength(3);
      expect(() => absoluteUnder("/srv/calls", relPath(path))).not.toThrow();
    }
  });

  it("renders the default template in UTC without colons", () => {
    const path = compileTemplate().render(item(), "audio/mpeg");
    expect(path).toBe("2026-11-25/213005_Inbound_+16505550100_101_2800000007.mp3");
  });

  it("fills every placeholder; / in the template makes folders", () => {
    const template = compileTemplate(
      "{year}/{month}/{day}/{recordingId}-{callId}-{sessionId}-{date}-{time}-{direction}-{fromNumber}-{fromName}-{toNumber}-{toName}-{extensionId}-{type}.{ext}",
    );
    expect(template.render(item(), "audio/x-wav")).toBe(
      "2026/11/25/2800000007-ASaxDDkSZ5s42MA-401234-2026-11-25-213005-Inbound-+16505550100-Alice-101-Bob-62264425011-Automatic.wav",
    );
  });

  it("uses 'unknown' for missing values", () => {
    const bare: RecordingItem = {
      recordingId: "1",
      contentUri: "x",
      record: { id: "c", startTime: "garbage" },
    };
    expect(
      compileTemplate("{date}/{fromName}_{toNumber}_{recordingId}.{ext}").render(bare, "audio/wav"),
    ).toBe("unknown/unknown_unknown_1.wav");
  });

  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["{recordingId}.{mp3}", /unknown placeholder \{mp3\}/],
    ["{recordingID}.{ext}", /unknown placeholder \{recordingID\} \(did you mean \{recordingId\}\?\)/],
    [
      "{date}.{ext}",
      /can give two recordings the same name; add \{recordingId\}, e\.g\. "\{date\}_\{recordingId\}\.\{ext\}"/,
    ],
    ["{date}/{callId}", /same name; add \{recordingId\}/],
    ["{recordingId", /unmatched \{/],
    ["recordingId}.{ext}", /unmatched \}/],
    ["/abs/{recordingId}.{ext}", /relative/],
    ["C:/x/{recordingId}", /relative/],
    ["~/x/{recordingId}", /relative/],
    ["../{recordingId}.{ext}", /\.\./],
    ["a/./{recordingId}", /\.\./],
    ["a//{recordingId}", /empty folder/],
    ["{date}/", /empty folder/],
    ["a\\{recordingId}", /use \//],
    ["rec:{recordingId}", /not allowed/],
    ["rec|{recordingId}", /not allowed/],
  ])("rejects %j at parse time", (source, message) => {
    expect(() => compileTemplate(source)).toThrow(UsageError);
    expect(() => compileTemplate(source)).toThrow(message);
  });

  it("maps content types to extensions", () => {
    expect(extensionFor("audio/mpeg")).toBe("mp3");
    expect(extensionFor("audio/wav")).toBe("wav");
    expect(extensionFor("audio/x-wav; charset=binary")).toBe("wav");
    expect(extensionFor("audio/ogg")).toBe("ogg");
    expect(extensionFor(undefined)).toBe("mp3"); // dry run: the call log does not say
  });
});

describe("sanitising hostile values", () => {
  const template = compileTemplate("{fromName}/{toName}_{recordingId}.{ext}");

  it.each(HOSTILE)("%j stays one harmless component inside DIR", (name) => {
    const path = template.render(item({ name }, { name }), "audio/mpeg");
    const components = path.split("/");
    expect(components).toHaveLength(2);
    for (const component of components) {
      expect(component).not.toMatch(UNSAFE_CHARS);
      expect(component).not.toMatch(/^\.|[. ]$/);
      expect(component).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i);
      expect(component).not.toContain("..");
      expect(Buffer.byteLength(component)).toBeLessThanOrEqual(MAX_COMPONENT_BYTES);
      expect(component.length).toBeGreaterThan(0);
    }
    expect(components[1]).toMatch(/_2800000007\.mp3$/);
    const dir = "/tmp/rcr-out";
    expect(absoluteUnder(dir, relPath(path)).startsWith(`${dir}/`)).toBe(true);
  });

  it("keeps the readable part of hostile values", () => {
    expect(safeValue("../../etc/passwd")).toBe("._._etc_passwd");
    expect(safeValue("a/b")).toBe("a_b");
    expect(safeValue("  Zoë  ")).toBe("Zoë");
    expect(safeValue("")).toBe("unknown");
    expect(template.render(item({ name: "CON" }), "audio/mpeg").split("/")[0]).toBe("_CON");
    expect(template.render(item({ name: ".hidden." }), "audio/mpeg").split("/")[0]).toBe("_hidden");
  });

  it("never splits an emoji or a multi-byte letter when capping length", () => {
    const long = "👨‍👩‍👧‍👦".repeat(30);
    const value = safeValue(long);
    expect(Buffer.byteLength(value)).toBeLessThanOrEqual(100);
    expect(value).toBe("👨‍👩‍👧‍👦".repeat(value.length / "👨‍👩‍👧‍👦".length));
    expect(value).not.toContain("\uFFFD");
  });

  it("caps a whole component but keeps its extension", () => {
    const wide = compileTemplate("{fromName}{toName}{fromName}_{recordingId}.{ext}");
    const path = wide.render(item({ name: "x".repeat(300) }, { name: "y".repeat(300) }), "audio/wav");
    expect(Buffer.byteLength(path)).toBeLessThanOrEqual(MAX_COMPONENT_BYTES);
    expect(path.endsWith(".wav")).toBe(true);
  });
});

describe("collisions and containment", () => {
  it("adds a numbered suffix before the extension", () => {
    expect(withSuffix("2026-11-25/a.mp3", 2)).toBe("2026-11-25/a_2.mp3");
    expect(withSuffix("a", 3)).toBe("a_3");
    expect(compileTemplate().withSuffix("d/x.y.wav", 12)).toBe("d/x.y_12.wav");
  });

  it("keeps a suffixed name within the component limit", () => {
    const long = `${"n".repeat(MAX_COMPONENT_BYTES - 4)}.mp3`;
    const suffixed = withSuffix(`d/${long}`, 99).split("/")[1] as string;
    expect(Buffer.byteLength(suffixed)).toBeLessThanOrEqual(MAX_COMPONENT_BYTES);
    expect(suffixed.endsWith("_99.mp3")).toBe(true);
  });
});
