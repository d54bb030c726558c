import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExitCode } from "../../../src/errors.js";
import { tempDir } from "../../helpers/cli.js";
import { run } from "./harness.js";

let dir: { path: string; cleanup: () => void };
beforeEach(() => {
  dir = tempDir("rcr-verify-cmd-");
});
afterEach(() => dir.cleanup());

/** A one-recording archive: `a.mp3` with the manifest line of its content. */
function archive(content: string, sha256: string) {
  mkdirSync(join(dir.path, ".rc-recordings"));
  writeFileSync(join(dir.path, "a.mp3"), content);
  const entry = { recordingId: "1", callId: "c", path: "a.mp3", bytes: 3, sha256, contentType: "audio/mpeg" };
  writeFileSync(
    join(dir.path, ".rc-recordings", "manifest.jsonl"),
    `${JSON.stringify({ ...entry, startTime: "" })}\n`,
  );
}

// sha256("abc")
const ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

describe("verify", () => {
  it("prints the documented JSON report and exits 0 when intact, without asking for a login", async () => {
    archive("abc", ABC);
    const r = await run(["--json", "verify", "--out", dir.path]);
    expect(r.code).toBe(ExitCode.ok);
    expect(JSON.parse(r.stdout)).toEqual({
      schema: 1,
      command: "verify",
      exitCode: 0,
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      endedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      profile: "default",
      out: dir.path,
      checked: 1,
      ok: 1,
      missing: [],
      changed: [],
      linked: [],
      unknown: [],
      // Written as an older version writes: no chain yet.
      chain: {
        records: 0,
        repairs: 0,
        head: null,
        start: null,
        broken: null,
        checkpoints: { count: 0, verified: false, problems: [] },
      },
    });
    expect(r.asked).toEqual(["destination"]);
  });

  it("exits 3 with one line per changed recording; --quiet keeps only those lines", async () => {
    archive("abd", ABC);
    const r = await run(["--quiet", "verify", "--out", dir.path]);
    expect(r.code).toBe(ExitCode.partial);
    expect(r.stdout).toBe("");
    expect(r.stderr).toEqual([
      expect.stringContaining("changed: a.mp3"),
      expect.stringContaining("1 of 1 recordings missing or changed (0 missing, 1 changed)"),
    ]);
  });

  it("exits 2 for a folder without a manifest", async () => {
    const r = await run(["verify", "--out", join(dir.path, "missing")]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr.join("\n")).toMatch(/no archive in .*missing/);
  });
});
