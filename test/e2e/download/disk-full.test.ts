import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DownloadEnv, expectAllSaved, filesBelow, setupDownload, sha256File } from "./helpers.js";

// A full disk for real: a small tmpfs mounted as DIR, filled to a given level with a filler file. tmpfs writes
// what fits and then reports a short write, exactly the case that used to leave truncated recordings behind.
// Mounting needs Linux and root (CI runs as root, where this is mandatory).

const why =
  process.platform !== "linux"
    ? "not Linux"
    : process.getuid?.() !== 0
      ? "not root (cannot mount a tmpfs)"
      : undefined;
const mandatory = process.env.CI === "true";

const TMPFS_BYTES = 1024 * 1024;
/** Free bytes left on the disk before each run: from nothing to almost enough for everything. */
const FREE_LEVELS = [0, 4096, 12_288, 40_000, 90_000, 160_000, 250_000, 380_000];

let e: DownloadEnv | undefined;
let mounted = false;

describe.skipIf(why !== undefined && !mandatory)(
  `download: a full disk${why ? ` (skipped: ${why})` : ""}`,
  () => {
    beforeAll(async () => {
      e = await setupDownload({
        calls: 14,
        withRecordingRatio: 1,
        recordingBytes: (i) => 20_000 + ((i * 7919) % 30_000),
      });
      mkdirSync(e.out, { recursive: true });
      execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_BYTES}`, "tmpfs", e.out]);
      mounted = true;
    });
    afterAll(async () => {
      if (mounted && e) execFileSync("umount", ["-l", e.out]);
      await e?.stop();
      e = undefined;
    });

    const filler = () => join(e?.out ?? "", "filler.bin");

    /** Every recording file under a final name holds exactly that recording's bytes (the id is in the name). */
    async function expectNoShortFile(env: DownloadEnv): Promise<void> {
      const byId = new Map(env.emu.control.recordings().map((r) => [r.id, r]));
      for (const file of filesBelow(env.out)) {
        if (["filler.bin", "index.csv"].includes(file) || file.endsWith(".part") || file.endsWith(".json"))
          continue;
        const id = /_(\d{10,})(?:_\d+)?\.\w+$/.exec(file)?.[1] ?? "";
        expect(byId.has(id), `${file} is a recording`).toBe(true);
        expect(await sha256File(join(env.out, ...file.split("/"))), `${file} is complete`).toBe(
          env.emu.control.expectedSha256(id),
        );
      }
    }

    for (const free of FREE_LEVELS) {
      it(`with ${free} bytes free: never exit 0 with a short file; after space is freed the rerun converges`, async () => {
        const env = e as DownloadEnv;
        for (const name of readdirSync(env.out))
          rmSync(join(env.out, name), { recursive: true, force: true });
        const { bavail, bsize } = statfsSync(env.out);
        writeFileSync(filler(), Buffer.alloc(Math.max(0, bavail * bsize - free)));

        // The filler really leaves (about) `free` bytes: otherwise every level would pass without a full disk.
        const left = statfsSync(env.out);
        expect(left.bavail * left.bsize).toBeLessThanOrEqual(free + left.bsize);
        const total = env.emu.control.recordings().reduce((sum, r) => sum + r.bytes, 0);

        const full = await env.download(["--from", "2d"]);
        await expectNoShortFile(env);
        // Only a level with room for every recording may succeed; below that the disk must fill up (exit 3).
        if (full.code === 0 && free >= total) {
          await expectAllSaved(env);
        } else {
          expect(full.code, full.stderr).toBe(3);
          expect(full.stderr).toMatch(/ENOSPC/);
          // The last line names the cause (the destination's StorageFullError) and what to do.
          expect(full.stderr.trim().split("\n").at(-1)).toMatch(/no space left on the disk.*free some space/);
        }

        rmSync(filler());
        const rerun = await env.download(["--from", "2d"]);
        expect(rerun.code, rerun.stderr).toBe(0);
        await expectAllSaved(env);
        const files = filesBelow(env.out).filter((f) => f !== "index.csv");
        expect(files.filter((f) => /_\d{10,}_\d+\.\w+$/.test(f))).toEqual([]); // no `_2` beside a recording
        expect(files).toHaveLength(env.emu.control.recordings().length);
      });
    }
  },
);
