import { describe, expect, it } from "vitest";
import {
  absoluteUnder,
  isRelPath,
  isStrictlyBelow,
  OutsideDirError,
  relPath,
} from "../../../src/destination/rel-path.js";

describe("RelPath: the one containment check", () => {
  it("accepts clean relative '/' paths only", () => {
    expect(relPath("2026/a.mp3")).toBe("2026/a.mp3");
    for (const bad of [
      "",
      "../x.mp3",
      "a/../../x.mp3",
      "a/../b.mp3",
      "/etc/passwd",
      "a//b",
      "./a",
      "a\\b",
      "C:x",
    ]) {
      expect(isRelPath(bad), bad).toBe(false);
      expect(() => relPath(bad), bad).toThrow(OutsideDirError);
    }
  });

  it("computes the absolute form under a root and checks it again", () => {
    expect(absoluteUnder("/data/rec", relPath("2026/a.mp3"))).toBe("/data/rec/2026/a.mp3");
    // A value that did not come through relPath (a cast) is still refused.
    expect(() => absoluteUnder("/data/rec", "../x.mp3" as ReturnType<typeof relPath>)).toThrow(/outside/);
  });

  it("tells strictly below from the root itself and from a sibling with a common prefix", () => {
    expect(isStrictlyBelow("/data/rec", "/data/rec/a")).toBe(true);
    expect(isStrictlyBelow("/data/rec", "/data/rec")).toBe(false);
    expect(isStrictlyBelow("/data/rec", "/data/record.mp3")).toBe(false);
    expect(isStrictlyBelow("/data/rec", "/data")).toBe(false);
  });

  it("marks an escaping path as a permanent failure", () => {
    expect(new OutsideDirError("x")).toMatchObject({ permanent: true, exitCode: 1 });
  });
});
