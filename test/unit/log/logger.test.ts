import { describe, expect, it } from "vitest";
import { Logger, MAX_MESSAGE_CHARS, requestedLogFormat } from "../../../src/log/logger.js";
import { registerSecret } from "../../../src/log/redact.js";

function capture(format: "text" | "json", verbosity: "quiet" | "normal" | "verbose" = "normal") {
  const lines: string[] = [];
  const log = new Logger(verbosity, { write: (text: string) => lines.push(text) }, format, () => new Date(0));
  return { log, lines };
}

describe("Logger", () => {
  it("json: one object per line with time, level, msg and the fields; text keeps its prefixes", () => {
    const json = capture("json");
    json.log.info("saved a.mp3 (1 kB)", {
      event: "saved",
      recordingId: "7",
      path: "a.mp3",
      bytes: 1000,
      sha256: "ab12",
    });
    json.log.error("line one\nline two");
    expect(json.lines.map((line) => JSON.parse(line))).toEqual([
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "info",
        msg: "saved a.mp3 (1 kB)",
        event: "saved",
        recordingId: "7",
        path: "a.mp3",
        bytes: 1000,
        sha256: "ab12",
      },
      { time: "1970-01-01T00:00:00.000Z", level: "error", msg: "line one\nline two" },
    ]);
    expect(json.lines.every((line) => line.endsWith("}\n") && line.split("\n").length === 2)).toBe(true);
    const text = capture("text");
    text.log.warn("careful", { event: "retry", error: "reset", waitMs: 1000 });
    text.log.error("broken");
    expect(text.lines).toEqual(["warning: careful\n", "rc-recordings: broken\n"]);
  });

  it("text: a line break in server text cannot start a line of its own (no forged 'saved' line)", () => {
    const text = capture("text");
    text.log.error("recording 7 failed: HTTP 500 Oops\nsaved 2026/evil.mp3 (1 kB)");
    expect(text.lines).toEqual([
      "rc-recordings: recording 7 failed: HTTP 500 Oops\n  saved 2026/evil.mp3 (1 kB)\n",
    ]);
  });

  it("a 100 kB message is cut with a marker, after redaction (no half secret survives the cut)", () => {
    const secret = `S${"k".repeat(60)}`;
    registerSecret(secret);
    const message = `${"x".repeat(MAX_MESSAGE_CHARS - 30)}${secret}${"y".repeat(100_000)}`;
    for (const format of ["text", "json"] as const) {
      const out = capture(format);
      out.log.error(message);
      const [line = ""] = out.lines;
      expect(line.length).toBeLessThan(MAX_MESSAGE_CHARS + 200);
      expect(line).toMatch(/… \[\d+ more characters not shown\]/);
      expect(line).not.toContain("kkkkkkkkkk");
      if (format === "json") expect(JSON.parse(line).level).toBe("error");
    }
  });

  it("json: the redactor applies to every field", () => {
    registerSecret("super-secret-token-value");
    const { log, lines } = capture("json");
    log.warn("got super-secret-token-value", {
      event: "failed",
      recordingId: "x?access_token=super-secret-token-value",
      error: "Authorization: Bearer abcdefghijkl",
    });
    const line = JSON.parse(lines[0] as string) as Record<string, string>;
    expect(lines[0]).not.toContain("super-secret-token-value");
    expect(line.error).toBe("Authorization: Bearer ***");
    expect(line.level).toBe("warn");
  });

  it("json: an event writes only its declared fields that are set; the 401 recovery line has no event name", () => {
    const { log, lines } = capture("json");
    log.info("skipped", { event: "skipped", recordingId: "9", path: undefined });
    log.info("progress", { event: "progress", downloaded: 3, remaining: undefined });
    log.info("recovered", { event: "recovery", cause: "rotated-elsewhere", hint: "h", errorCode: "OAU-213" });
    // A field smuggled past the types (e.g. from an untyped object) is not written.
    log.info("odd", { event: "progress", downloaded: 1, level: "fake" } as never);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const fields = parsed.map(({ time, level, msg, ...rest }) => rest);
    expect(fields).toEqual([
      { event: "skipped", recordingId: "9" },
      { event: "progress", downloaded: 3 },
      { cause: "rotated-elsewhere", hint: "h", errorCode: "OAU-213" },
      { event: "progress", downloaded: 1 },
    ]);
    expect(parsed[3]?.level).toBe("info");
  });

  it("the format is known before parsing: --log-format wins over RC_RECORDINGS_LOG_FORMAT", () => {
    expect(requestedLogFormat(["download", "--log-format", "json"], {})).toBe("json");
    expect(requestedLogFormat(["--log-format=json"], { RC_RECORDINGS_LOG_FORMAT: "text" })).toBe("json");
    expect(requestedLogFormat(["--log-format", "text"], { RC_RECORDINGS_LOG_FORMAT: "json" })).toBe("text");
    expect(requestedLogFormat([], { RC_RECORDINGS_LOG_FORMAT: "json" })).toBe("json");
    expect(requestedLogFormat(["--", "--log-format", "json"], {})).toBe("text");
    expect(requestedLogFormat(["--log-format", "xml"], {})).toBe("text");
  });
});
