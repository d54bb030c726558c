import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, posix, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { anchors, codeSpans, links, markdownFiles, REPO_ROOT, readDoc } from "../../helpers/markdown.js";

/**
 * The documentation must work from a plain clone: every relative link (and its #anchor) resolves to a file of the
 * repository, none climbs out of it, and no path written in a doc names a file outside it.
 */

const files = markdownFiles();
const WEB = /^[a-z][a-z0-9+.-]*:/i; // https:, mailto:, …: not checked (no network in the tests)

function problemsOf(file: string, text: string = readDoc(file)): string[] {
  const problems: string[] = [];
  for (const { line, target } of links(text)) {
    if (WEB.test(target)) continue;
    const where = `${file}:${line}: ${target}`;
    if (target === "") {
      problems.push(`${where}: empty link`);
      continue;
    }
    const hash = target.indexOf("#");
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    if (pathPart === "") {
      if (anchor !== undefined && !anchors(text).has(anchor))
        problems.push(`${where}: no heading makes #${anchor}`);
      continue;
    }
    if (isAbsolute(pathPart) || pathPart.startsWith("/")) {
      problems.push(`${where}: an absolute path (not in a clone of the repository)`);
      continue;
    }
    const resolved = resolve(REPO_ROOT, dirname(file), pathPart);
    const inRepo = relative(REPO_ROOT, resolved);
    if (inRepo.startsWith("..") || isAbsolute(inRepo)) {
      problems.push(`${where}: points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (anchor !== undefined && anchor !== "") {
      if (!resolved.endsWith(".md") || !statSync(resolved).isFile()) {
        problems.push(`${where}: an anchor into something that is not a Markdown file`);
      } else if (!anchors(readDoc(posix.normalize(inRepo.split("\\").join("/")))).has(anchor)) {
        problems.push(`${where}: no heading makes #${anchor}`);
      }
    }
  }
  // A path written as code is a reference too: an absolute one, or one leaving the repository, would not be there
  // in a clone (e.g. a spec kept beside the project on one machine).
  for (const { line, target } of codeSpans(text)) {
    if (/^\/(?!tmp\/|dev\/|proc\/|etc\/|usr\/|var\/|srv\/|run\/)\S+\.(md|ya?ml|json|ts|sh)$/.test(target)) {
      problems.push(`${file}:${line}: \`${target}\` names a file outside the repository`);
    }
  }
  return problems;
}

describe("documentation links", () => {
  it("finds the documents it is meant to check", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "README.md",
        "CONTRIBUTING.md",
        "docs/architecture.md",
        "docs/logs-and-events.md",
        "test/emulator/README.md",
        "bench/README.md",
      ]),
    );
  });

  it.each(files)("every relative link and #anchor in %s resolves inside the repository", (file) => {
    expect(problemsOf(file)).toEqual([]);
  });

  it("the README links every page of docs/ and CONTRIBUTING.md", () => {
    const linked = new Set(
      links(readDoc("README.md"))
        .map((l) => l.target.split("#")[0] ?? "")
        .map((t) => posix.normalize(t)),
    );
    const pages = [...files.filter((f) => f.startsWith("docs/")), "CONTRIBUTING.md"];
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it("the README stays a front door: at most 15 KB", () => {
    expect(Buffer.byteLength(readDoc("README.md"))).toBeLessThanOrEqual(15_000);
  });

  it("catches what it is meant to catch", () => {
    // The checker itself, on a document with one good and each kind of bad reference.
    const sample = [
      "# Title",
      "## Exit codes",
      "[ok](#exit-codes) [bad anchor](#nope) [gone](no-such.md) [out](../../outside.md) [abs](/etc/passwd)",
      "```sh",
      "[not a link](in-code.md)",
      "```",
      "see `/home/someone/spec/api.md` and [the docs](../docs/logs-and-events.md#log-format---log-format-textjson)",
    ].join("\n");
    const targets = links(sample).map((l) => l.target);
    expect(targets).toEqual([
      "#exit-codes",
      "#nope",
      "no-such.md",
      "../../outside.md",
      "/etc/passwd",
      "../docs/logs-and-events.md#log-format---log-format-textjson",
    ]);
    const problems = problemsOf("docs/sample.md", sample).join("\n");
    expect(problemsOf("docs/sample.md", sample)).toHaveLength(5);
    for (const bad of [
      "#nope",
      "no-such.md",
      "../../outside.md",
      "/etc/passwd",
      "/home/someone/spec/api.md",
    ]) {
      expect(problems).toContain(bad);
    }
    expect([...anchors(sample)]).toEqual(["title", "exit-codes"]);
    expect([...anchors("## Log format (`--log-format text|json`)\n## A\n## A")]).toEqual([
      "log-format---log-format-textjson",
      "a",
      "a-1",
    ]);
  });
});
