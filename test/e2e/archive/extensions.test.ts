import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DownloadEnv,
  expectAllSaved,
  filesBelow,
  manifestOf,
  setupDownload,
} from "../download/helpers.js";

let e: DownloadEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const TEMPLATE = "{extensionNumber}/{extensionName}/{recordingId}.{ext}";

/** The emulator's default directory names, made harmless as folder names (no separators, no leading dots). */
const SAFE_NAMES: Record<string, string> = {
  "101": "Emma Emulator",
  "102": "Sales _ Support",
  "103": "=HYPERLINK(_http___evil.example_,_Reception_)",
  "104": "__._._Outside",
  "105": "+44 London_Desk",
  "106": "@Night Shift",
  unknown: "unknown",
};

describe("extension names and the --extension filter", () => {
  it("files by {extensionNumber}/{extensionName} as the directory names them, unknown for a deleted one", async () => {
    e = await setupDownload({ calls: 30 });
    const env = e;
    const result = await env.download(["--template", TEMPLATE, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    await expectAllSaved(env);
    // One directory read (Medium) for the whole run.
    expect(env.emu.stats.requestsByGroup.medium).toBe(1);

    const listed = new Map(env.emu.control.directory().map((x) => [x.id, x]));
    const recordings = new Map(env.emu.control.recordings().map((r) => [r.id, r]));
    const folders = new Set<string>();
    for (const entry of manifestOf(env.out)) {
      const extension = recordings.get(entry.recordingId)?.extension;
      const known = extension && listed.get(extension.id);
      const [number, name] = entry.path.split("/");
      expect(number).toBe(known ? known.extensionNumber : "unknown");
      expect(name).toBe(SAFE_NAMES[number ?? ""]);
      expect(entry.extensionNumber).toBe(known?.extensionNumber);
      expect(entry.extensionName).toBe(known?.name);
      expect(resolve(env.out, entry.path).startsWith(`${env.out}/`)).toBe(true);
      folders.add(`${number}/${name}`);
    }
    // Every extension of the default directory has calls here, and so does the deleted one.
    expect([...folders].sort()).toEqual(
      Object.entries(SAFE_NAMES)
        .map(([n, name]) => `${n}/${name}`)
        .sort(),
    );
    // Nothing escaped DIR (a name of ../../../Outside).
    expect(readdirSync(env.dir).sort()).toEqual(["config", "out"]);
    expect(filesBelow(env.dir).every((f) => f.startsWith("config/") || f.startsWith("out/"))).toBe(true);

    // The directory is cached in DIR's state for a day: a second run reads it no more.
    env.emu.control.resetStats();
    const again = await env.download(["--template", TEMPLATE, "--from", "2d"]);
    expect(again.code, again.stderr).toBe(0);
    expect(env.emu.stats.requestsByGroup.medium).toBe(0);
    expect(existsSync(join(env.out, ".rc-recordings", "extensions.json"))).toBe(true);
  });

  it("a --scope extension run names its own extension from extension info, without the directory", async () => {
    e = await setupDownload({ calls: 18 });
    const result = await e.download(["--scope", "extension", "--template", TEMPLATE, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(e.emu.stats.requestsByGroup.medium).toBe(0);
    const entries = manifestOf(e.out);
    const own = e.emu.control.recordings().filter((r) => r.extension.extensionNumber === "101");
    expect(own.length).toBeGreaterThan(0);
    expect(entries.map((m) => m.recordingId).sort()).toEqual(own.map((r) => r.id).sort());
    expect(entries.every((m) => m.path.startsWith("101/Emma Emulator/"))).toBe(true);
  });

  it("--extension 102 lists and fetches only that extension's recordings", async () => {
    e = await setupDownload({ calls: 24 });
    const result = await e.download(["--extension", "102", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const sales = e.emu.control.recordings().filter((r) => r.extension.extensionNumber === "102");
    expect(sales.length).toBeGreaterThan(0);
    expect(Object.keys(e.emu.stats.contentRequestsByRecording).sort()).toEqual(sales.map((r) => r.id).sort());
    const entries = manifestOf(e.out);
    expect(entries.map((m) => m.recordingId).sort()).toEqual(sales.map((r) => r.id).sort());
    expect(entries.every((m) => m.extensionNumber === "102")).toBe(true);
  });

  it("--extension twice merges both extensions' listings, each recording once, oldest first", async () => {
    e = await setupDownload({ calls: 24 });
    const result = await e.download(["--extension", "104", "--extension", "101", "--dry-run", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const planned = (JSON.parse(result.stdout) as { planned: string[] }).planned;
    const wanted = e.emu.control
      .recordings()
      .filter((r) => ["101", "104"].includes(r.extension.extensionNumber))
      .sort((a, b) => b.index - a.index); // index 0 is the newest call; a run works oldest first (issue 11)
    // The default template starts with the date and time: the planned order shows the merge's order.
    expect(planned.map((p) => /_(\d+)\.mp3$/.exec(p)?.[1])).toEqual(wanted.map((r) => r.id));
    expect(e.emu.stats.callLogRequests).toBe(2);
  });

  it("rejects an unknown extension number, and --extension with --scope extension, with exit 2", async () => {
    e = await setupDownload();
    const unknown = await e.download(["--extension", "102", "--extension", "999"]);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain("--extension 999");
    expect(unknown.stderr).not.toContain("--extension 102");
    expect(e.emu.stats.callLogRequests).toBe(0);
    expect(e.emu.stats.contentRequests).toBe(0);

    const scoped = await e.download(["--extension", "102", "--scope", "extension"]);
    expect(scoped.code).toBe(2);
    expect(scoped.stderr).toMatch(/--scope extension/);
    const bad = await e.download(["--extension", "sales"]);
    expect(bad.code).toBe(2);
  });
});
