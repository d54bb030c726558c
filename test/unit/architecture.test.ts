import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layering rules of docs/architecture.md, checked over the import graph of src/ (static imports, `export …
 * from`, dynamic `import()` and `require()`): no cycle between folders, no cycle between the files of one folder, and nothing
 * below the command layer reaches up into it.
 */

const SRC = path.resolve(import.meta.dirname, "../../src");
/** The top of the program: they assemble and present, and nothing below may depend on them. */
const TOP = ["cli.ts", "context.ts", "factory.ts", "commands", "ui"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith(".ts") ? [p] : [];
  });
}

/** file (relative to src) -> the src files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  // `… from "x"`, `import("x")`, a bare `import "x"` and `require("x")` (createRequire): every way a file loads another.
  const spec = /(?:from\s+|import\s*\(\s*|import\s+|require\(\s*)"(\.{1,2}\/[^"]+)"/g;
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(spec)].map((m) =>
      path.relative(SRC, path.resolve(path.dirname(file), (m[1] as string).replace(/\.js$/, ".ts"))),
    );
    graph.set(path.relative(SRC, file), targets);
  }
  return graph;
}

/** The unit a file belongs to: its top-level folder under src, or the file itself at the top level. */
const unitOf = (file: string): string => file.split(path.sep)[0] as string;

function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "open") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "open");
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      const cycle = visit(m);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of edges.keys()) {
    const cycle = visit(n);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("architecture", () => {
  const graph = importGraph();

  it("reads the import graph", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
  });

  it("has no cycle between folders", () => {
    const edges = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      const from = unitOf(file);
      for (const t of targets) {
        const to = unitOf(t);
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(to);
      }
    }
    expect(findCycle(edges)).toBeUndefined();
  });

  it("has no cycle between the files of one folder", () => {
    const edges = new Map<string, Set<string>>();
    for (const [file, targets] of graph) {
      const local = targets.filter((t) => path.dirname(t) === path.dirname(file));
      edges.set(file, new Set(local));
    }
    expect(findCycle(edges)).toBeUndefined();
  });

  it("keeps the command layer on top: no lower layer imports cli, context, factory, commands or ui", () => {
    const offenders: string[] = [];
    for (const [file, targets] of graph) {
      if (TOP.includes(unitOf(file))) continue;
      for (const t of targets) if (TOP.includes(unitOf(t))) offenders.push(`${file} -> ${t}`);
    }
    expect(offenders).toEqual([]);
  });
});
