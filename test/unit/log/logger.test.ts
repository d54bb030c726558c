import { describe, expect, it } from "vitest";
import { Logger, requestedLogFormat } from "../../../src/log/logger.js";
import { registerSecret } from "../../../src/log/redact.js";

function capture(format: "text" | "json", verbosity: "quiet" | "normal" | "verbose" = "normal") {
  const lines: string[] = [];
  const log = new Logger(verbosity, { write: (text: string) => lines.push(text) }, format, () => new Date(0));
  return { log, lines };
}

describe("Logger", () => {
  it("json: one object per line with time, level, msg and the fields; text keeps its prefixes", () => {
    const json = capture("json");
    json.log.info("saved a.mp3 (1 kB)", { event: "saved", recordingId: "7", path: "a.mp3", bytes: 1000 });
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
      },
      { time: "1970-01-01T00:00:00.000Z", level: "error", msg: "line one\nline two" },
    ]);
    expect(json.lines.every((line) => line.endsWith("}\n") && line.split("\n").length === 2)).toBe(true);
    const text = capture("text");
    text.log.warn("careful", { event: "retry" });
    text.log.error("broken");
    expect(text.lines).toEqual(["warning: careful\n", "rc-recordings: broken\n"]);
  });

  it("json: the redactor applies to every field, and the fields cannot replace time, level or msg", () => {
    registerSecret("super-secret-token-value");
    const { log, lines } = capture("json");
    log.warn("got super-secret-token-value", {
      error: "Authorization: Bearer abcdefghijkl",
      path: "x?access_token=super-secret-token-value",
      level: "fake",
    });
    const line = JSON.parse(lines[0] as string) as Record<string, string>;
    expect(lines[0]).not.toContain("super-secret-token-value");
    expect(line.error).toBe("Authorization: Bearer ***");
    expect(line.level).toBe("warn");
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
