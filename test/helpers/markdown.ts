/**
 * Just enough Markdown reading for the documentation tests: the repository's Markdown files, their links, the
 * anchors their headings make (as GitHub makes them) and their tables. Fenced code blocks are never read as
 * Markdown (a `# comment` in a shell block is not a heading, a `[x](y)` in an example is not a link).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Folders that hold no documentation of ours (dependencies, build output, scratch space). */
const NOT_DOCS = new Set([
  "node_modules",
  "dist",
  "coverage",
  ".git",
  ".vitest-tmp",
  "demo-recordings",
  ".work",
]);

/** Every Markdown file of the repository, as `/`-separated paths relative to its root, sorted. */
export function markdownFiles(root: string = REPO_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!NOT_DOCS.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile() && entry.name.endsWith(".md")) {
        found.push(relative(root, join(dir, entry.name)).split("\\").join("/"));
      }
    }
  };
  walk(root);
  return found.sort();
}

export function readDoc(path: string): string {
  return readFileSync(join(REPO_ROOT, path), "utf8");
}

/** The lines outside fenced code blocks, with their 1-based line numbers. */
export function proseLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split("\n").forEach((line, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) out.push({ line: i + 1, text: line });
  });
  return out;
}

/** Inline code spans removed (their text is not Markdown). */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)[^`]*?\1/g, "");
}

export interface Link {
  line: number;
  target: string;
}

/** Inline links `[text](target "title")`, images included, and reference definitions `[name]: target`. */
export function links(text: string): Link[] {
  const found: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    const prose = withoutCodeSpans(raw);
    for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      found.push({ line, target: m[1] ?? "" });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (definition?.[1] !== undefined) found.push({ line, target: definition[1] });
  }
  return found;
}

/** The code spans of the prose (to find paths written as `code` rather than as links). */
export function codeSpans(text: string): Link[] {
  const found: Link[] = [];
  for (const { line, text: raw } of proseLines(text)) {
    for (const m of raw.matchAll(/(`+)([^`]+?)\1/g)) found.push({ line, target: m[2] ?? "" });
  }
  return found;
}

const HEADING = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/;

/** A heading's text as GitHub's anchor: links and code reduced to their text, emphasis dropped, punctuation out. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*]/g, "")
    .replace(/<[^>]+>/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** The headings outside code blocks, each with its anchor (a repeated one gets `-1`, `-2`, … as on GitHub). */
function headings(text: string): { index: number; anchor: string }[] {
  const seen = new Map<string, number>();
  const result: { index: number; anchor: string }[] = [];
  proseLines(text).forEach(({ text: line }, index) => {
    const heading = HEADING.exec(line)?.[1];
    if (heading === undefined) return;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.push({ index, anchor: count === 0 ? base : `${base}-${count}` });
  });
  return result;
}

/** The anchors a file's headings get on GitHub. */
export function anchors(text: string): Set<string> {
  return new Set(headings(text).map((h) => h.anchor));
}

/**
 * The rows of the first table after the heading whose anchor is `anchor`, as arrays of cell texts (header row
 * first, the `---` row left out).
 */
export function tableAfter(text: string, anchor: string): string[][] {
  const lines = proseLines(text).map((l) => l.text);
  const heading = headings(text).find((h) => h.anchor === anchor);
  if (heading === undefined) throw new Error(`no heading #${anchor}`);
  const start = heading.index + 1;
  const rows: string[][] = [];
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line.startsWith("|")) {
      if (/^\|[\s:|-]+\|$/.test(line)) continue;
      rows.push(splitRow(line));
    } else if (rows.length > 0 || HEADING.test(line)) {
      break;
    }
  }
  return rows;
}

/** Cells of `| a | b \| c |`: an escaped pipe stays in its cell. */
function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cell = "";
  const inner = line.slice(1, line.endsWith("|") ? -1 : undefined);
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "\\" && inner[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (c === "|") {
      cells.push(cell.trim());
      cell = "";
    } else {
      cell += c;
    }
  }
  cells.push(cell.trim());
  return cells;
}
