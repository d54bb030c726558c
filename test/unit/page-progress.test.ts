import { describe, expect, it } from "vitest";
import { PageProgress } from "../../src/page-progress.js";

/** Feed pages (place, first item) until the guard refuses one; the reason, or undefined when all passed. */
function walk(pages: [string, string | undefined][], maxPages = 100): string | undefined {
  const progress = new PageProgress(maxPages, (reason) => new Error(reason));
  try {
    for (const [place, first] of pages) progress.check(progress.next(), place, first, place);
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

describe("PageProgress", () => {
  it("passes pages that move forward, empty ones included", () => {
    expect(
      walk([
        ["", "a"],
        ["t1", undefined],
        ["t2", "c"],
      ]),
    ).toBeUndefined();
  });

  it("refuses a place read twice: a repeat, or a cycle", () => {
    expect(
      walk([
        ["", "a"],
        ["t", "b"],
        ["t", "c"],
      ]),
    ).toBe("page 3 repeats page 2 (t)");
    expect(
      walk([
        ["", undefined],
        ["a", undefined],
        ["b", undefined],
        ["a", undefined],
      ]),
    ).toBe("page 4 repeats page 2 (a)");
  });

  it("refuses a page that starts like an earlier one (the place asked for was ignored)", () => {
    expect(
      walk([
        ["", "k1"],
        ["fresh-1", "k1"],
      ]),
    ).toBe("page 2 starts with the same record as page 1 (paging ignored)");
  });

  it("refuses the page after maxPages", () => {
    const pages = Array.from({ length: 4 }, (_, i): [string, string] => [`t${i}`, `k${i}`]);
    expect(walk(pages, 3)).toBe("more than 3 pages");
    expect(walk(pages.slice(0, 3), 3)).toBeUndefined();
  });
});
