import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { parseDuration, parseWhen } from "../../../src/listing/when.js";

const NOW = new Date("2026-11-25T21:30:00.000Z");
const iso = (text: string) => parseWhen(text, "--from", NOW).toISOString();

describe("parseWhen", () => {
  it.each([
    ["2026-11-01", "2026-11-01T00:00:00.000Z"],
    ["2026-11-01T08:30", "2026-11-01T08:30:00.000Z"],
    ["2026-11-01 08:30:15", "2026-11-01T08:30:15.000Z"],
    ["2026-11-01T08:30:15.25Z", "2026-11-01T08:30:15.250Z"],
    ["2026-11-01T08:30:00+01:00", "2026-11-01T07:30:00.000Z"],
    ["2026-11-01T08:30:00-0530", "2026-11-01T14:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
  ])("absolute %s → %s (no zone = UTC)", (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it.each([
    ["90m", "2026-11-25T20:00:00.000Z"],
    ["36h", "2026-11-24T09:30:00.000Z"],
    ["7d", "2026-11-18T21:30:00.000Z"],
    ["2w", "2026-11-11T21:30:00.000Z"],
    ["now", "2026-11-25T21:30:00.000Z"],
    [" 7d ", "2026-11-18T21:30:00.000Z"],
    ["1d12h", "2026-11-24T09:30:00.000Z"],
  ])("relative %s → %s before now", (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  it.each([
    "",
    "yesterday",
    "7",
    "7y",
    "-7d",
    "2026-13-01",
    "2026-02-30",
    "2025-02-29",
    "2026-11-01T24:00",
    "2026-11-01T08:60",
    "2026-11-01T08:30+25:00",
    "11/01/2026",
    "2026-11-01T08",
  ])("rejects %j with a one-line usage error naming the flag", (text) => {
    let error: unknown;
    try {
      parseWhen(text, "--to", NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/^--to /);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("parseDuration (--max-duration)", () => {
  it.each([
    ["30s", 30_000],
    ["55m", 3_300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    [" 90m ", 5_400_000],
    ["1h30m", 5_400_000],
    ["1d12h", 129_600_000],
    ["2w", 1_209_600_000],
    ["1h0m30s", 3_630_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text, "--max-duration")).toBe(ms);
  });

  it.each([
    "",
    "0s",
    "0h0m",
    "55",
    "1.5h",
    "30m1h",
    "1h1h",
    "1h 30m",
    "-5m",
    "5 m",
    "5M",
    "1e3s",
    "99999999s",
  ])("%j is a usage error", (text) => {
    expect(() => parseDuration(text, "--max-duration")).toThrow(UsageError);
  });
});
