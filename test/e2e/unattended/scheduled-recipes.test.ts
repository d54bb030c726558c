import { spawn } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as plist from "plist";
import { afterEach, describe, expect, it } from "vitest";
import { newLockHolder } from "../../../src/destination/lock-holder.js";
import { type Emulator, start } from "../../emulator/index.js";
import { CLI, type CliResult, outputOf, runCli, tempDir } from "../../helpers/cli.js";
import { CHECK_ID, pingListener } from "../../helpers/ping-listener.js";

// The cron lines of the README and docs/ and the launchd agent in contrib/ as the user copies them, read from the
// documents and files themselves (so they cannot drift from what is tested), with only their placeholders filled
// in: node's and the CLI's absolute paths, the home folder and the ping URL. Each runs as its scheduler runs it —
// cron: `env -i` with cron's PATH, HOME and SHELL only, through /bin/sh; launchd: the program's arguments with
// launchd's environment and stdout/stderr appended to the files it names — with no D-Bus and no controlling
// terminal, against the emulator.

const ROOT = resolve(import.meta.dirname, "../../..");
/** What cron's environment holds (Debian's cron: HOME, LOGNAME, PATH, SHELL) — nothing of the test's. */
const CRON_PATH = "/usr/bin:/bin";
/** The placeholders of the docs' lines: the paths `command -v` prints on the reader's machine, the check URL. */
const DOC_NODE = "/usr/bin/node";
const DOC_CLI = "/usr/local/bin/rc-recordings";
const DOC_PING = "https://hc-ping.com/YOUR-CHECK-UUID";

interface Paths {
  home: string;
  /** A folder on the reader's PATH holding `rc-recordings` (what `npm link` / `npm install -g` make). */
  bin: string;
  ping: string;
}

/** One scheduled job: run it once, as its scheduler would. */
interface Job {
  run(): Promise<CliResult>;
  /** The job pings (its line or file names a ping URL). */
  pinged: boolean;
  /** What to show when it goes wrong. */
  describe: string;
}

interface Recipe {
  where: string;
  job(paths: Paths): Promise<Job>;
}

/** A crontab line run as cron runs it. */
function cronJob(line: string, home: string): Job {
  const command = cronCommand(line);
  const cron = { HOME: home, LOGNAME: "rc-user", PATH: CRON_PATH, SHELL: "/bin/sh" };
  return { run: () => shell(command, cron), pinged: command.includes(CHECK_ID), describe: line };
}

/** Every ```cron block of docs/*.md: one line each. */
function docCronLines(): Recipe[] {
  const recipes: Recipe[] = [];
  for (const page of ["scheduling.md", "backfill.md"]) {
    const text = readFileSync(join(ROOT, "docs", page), "utf8");
    for (const [, block] of text.matchAll(/```cron\n([\s\S]*?)```/g)) {
      const lines = (block as string).split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
      expect(lines, page).toHaveLength(1);
      const written = lines[0] as string;
      expect(written).toContain(DOC_NODE);
      expect(written).toContain(DOC_CLI);
      recipes.push({
        where: `docs/${page}`,
        job: async ({ home, ping }) =>
          cronJob(
            written.replace(DOC_NODE, process.execPath).replace(DOC_CLI, CLI).replace(DOC_PING, ping),
            home,
          ),
      });
    }
  }
  return recipes;
}

/** The quick start prints its line with `echo "…$(command -v node) $(command -v rc-recordings)…"`: run that echo. */
function readmeCronLine(): Recipe {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  const echo = /^(echo ".*\* \* \*.*")$/m.exec(text)?.[1];
  expect(echo, "the README's cron line").toBeDefined();
  return {
    where: "README.md",
    // The reader's shell: node and the installed CLI on the PATH, their HOME.
    job: async ({ home, bin }) => {
      const printed = await shell(echo as string, {
        HOME: home,
        PATH: `${dirname(process.execPath)}:${bin}:${CRON_PATH}`,
      });
      expect(printed.code, printed.stderr).toBe(0);
      return cronJob(printed.stdout.trim(), home);
    },
  };
}

/** The placeholders of the launchd agent: node and the CLI where Homebrew puts them, the user's home. */
const AGENT_NODE = "/opt/homebrew/bin/node";
const AGENT_CLI = "/opt/homebrew/bin/rc-recordings";
const AGENT_HOME = "/Users/YOU";

/** contrib/launchd's agent: a well-formed plist whose program runs as launchd starts it. */
function launchdAgent(): Recipe {
  const file = join(ROOT, "contrib", "launchd", "rc-recordings.plist");
  // plist's parser fails on XML that is not well-formed; the shape is checked here.
  const agent = plist.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  expect(agent).toMatchObject({
    Label: expect.stringMatching(/^[\w.-]+$/),
    ProgramArguments: expect.arrayContaining([AGENT_NODE, AGENT_CLI, "download"]),
    StartCalendarInterval: { Hour: expect.any(Number), Minute: expect.any(Number) },
    StandardOutPath: expect.stringContaining(AGENT_HOME),
    StandardErrorPath: expect.stringContaining(AGENT_HOME),
  });
  const args = agent.ProgramArguments as string[];
  expect(args.every((arg) => typeof arg === "string")).toBe(true);
  return {
    where: "contrib/launchd/rc-recordings.plist",
    job: async ({ home, ping }) => {
      const fill = (text: string) =>
        text
          .replace(AGENT_NODE, process.execPath)
          .replace(AGENT_CLI, CLI)
          .replaceAll(AGENT_HOME, home)
          .replace(DOC_PING, ping);
      const [program, ...rest] = args.map(fill) as [string, ...string[]];
      const variables = Object.fromEntries(
        Object.entries((agent.EnvironmentVariables ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          fill(v),
        ]),
      );
      // launchd's environment for an agent: its own PATH, the user's HOME, USER, LOGNAME, SHELL, TMPDIR.
      const env = {
        PATH: "/usr/bin:/bin:/usr/sbin:/sbin",
        HOME: home,
        USER: "rc-user",
        LOGNAME: "rc-user",
        SHELL: "/bin/sh",
        TMPDIR: tmpdir(),
        ...variables,
      };
      return {
        pinged: Object.values(env).some((v) => v.includes(CHECK_ID)),
        describe: [program, ...rest].join(" "),
        run: async () => {
          // launchd opens both files for appending and gives the program nothing else to write to.
          const out = openSync(fill(agent.StandardOutPath as string), "a");
          const err = openSync(fill(agent.StandardErrorPath as string), "a");
          try {
            const child = spawn(program, rest, { env, detached: true, stdio: ["ignore", out, err] });
            const code = await new Promise<number | null>((done) => child.on("close", done));
            return { code, signal: null, stdout: "", stderr: "" };
          } finally {
            closeSync(out);
            closeSync(err);
          }
        },
      };
    },
  };
}

/** The command cron runs for a crontab line: what follows the five time fields; a `%` would become a newline. */
function cronCommand(line: string): string {
  const match = /^\s*(?:\S+\s+){5}(.+)$/.exec(line);
  expect(match, line).not.toBeNull();
  const command = match?.[1] as string;
  expect(command, "cron turns % into a line break").not.toMatch(/(?<!\\)%/);
  return command;
}

function shell(command: string, env: Record<string, string>): Promise<CliResult> {
  // `env -i`: nothing of this process's environment; detached: setsid, so no controlling terminal either.
  const child = spawn(
    "/usr/bin/env",
    ["-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "/bin/sh", "-c", command],
    { detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  return outputOf(child, 60_000);
}

function linesOf(path: string): string[] {
  try {
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => l !== "");
  } catch {
    return [];
  }
}

let emu: Emulator | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
let listener: Awaited<ReturnType<typeof pingListener>> | undefined;
afterEach(async () => {
  await emu?.stop();
  await listener?.close();
  dir?.cleanup();
  emu = undefined;
  listener = undefined;
  dir = undefined;
});

describe("the documented scheduled jobs, run as their schedulers run them", () => {
  for (const recipe of [readmeCronLine(), ...docCronLines(), launchdAgent()]) {
    it(`${recipe.where}: each night (ok, busy, login needed, bad --out) appends one JSON line, errors reach the log with their time, a ping URL it names is pinged`, async () => {
      emu = await start({ rateLimits: false, calls: 4, withRecordingRatio: 1 });
      listener = await pingListener();
      dir = tempDir("rcr-cron-");
      const home = join(dir.path, "home");
      const bin = join(dir.path, "bin");
      mkdirSync(home);
      mkdirSync(bin);
      // What `npm link` / `npm install -g` put on the reader's PATH: the CLI under its name.
      symlinkSync(CLI, join(bin, "rc-recordings"));

      // The quick start's login, into the file store of this HOME.
      writeFileSync(join(dir.path, "client-secret"), emu.credentials.clientSecret);
      writeFileSync(join(dir.path, "jwt"), emu.credentials.jwt);
      const asUser = { HOME: home, RC_APP_CLIENT_ID: emu.credentials.clientId, RC_SERVER_URL: emu.server };
      const login = await runCli(
        [
          "--store",
          "file",
          "login",
          "--client-secret-file",
          join(dir.path, "client-secret"),
          "--jwt-file",
          join(dir.path, "jwt"),
        ],
        { env: asUser },
      );
      expect(login.code, login.stderr).toBe(0);

      const job = await recipe.job({ home, bin, ping: listener.url });
      const { pinged } = job;
      const results = join(home, "rc-recordings.jsonl");
      const log = join(home, "rc-recordings.log");
      /** One night: the job's exit code, what it added to the results and the log, the pings it sent. */
      const night = async () => {
        const before = { results: linesOf(results).length, log: linesOf(log).length };
        listener?.pings.splice(0);
        const r = await job.run();
        // cron mails whatever a job prints: the recipe sends everything to its files.
        expect(r.stdout + r.stderr).toBe("");
        const added = linesOf(results).slice(before.results);
        expect(added, `${job.describe}\n${readFileSync(log, "utf8")}`).toHaveLength(1);
        const result = JSON.parse(added[0] as string) as Record<string, unknown>;
        expect(result.exitCode).toBe(r.code);
        expect(Date.parse(result.startedAt as string)).toBeGreaterThan(Date.now() - 120_000);
        const logged = linesOf(log)
          .slice(before.log)
          .map((l) => JSON.parse(l) as { time: string; level: string; msg: string });
        for (const entry of logged) expect(Date.parse(entry.time)).toBeGreaterThan(Date.now() - 120_000);
        const pings = (listener?.pings ?? []).map((p) => p.path.replace(`/ping/${CHECK_ID}`, "") || "/");
        return { code: r.code, result, logged, pings };
      };
      const failedNight = async (code: number, error: RegExp) => {
        const n = await night();
        expect(n.code).toBe(code);
        expect(n.result.error).toMatch(error);
        expect(n.logged.filter((l) => l.level === "error").map((l) => l.msg)).toEqual([n.result.error]);
        if (pinged) expect(n.pings).toEqual(["/start", "/fail"]);
      };

      const ok = await night();
      expect(ok.code, JSON.stringify(ok)).toBe(0);
      expect(ok.result).toMatchObject({ command: "download", downloaded: 4, profile: "default" });
      if (pinged) expect(ok.pings).toEqual(["/start", "/"]);

      const out = ok.result.out as string;
      const lock = join(out, ".rc-recordings", "lock");
      writeFileSync(lock, JSON.stringify(newLockHolder()));
      await failedNight(5, /busy|lock|another/i);
      renameSync(lock, `${lock}.gone`);

      const revoked = await runCli(["token", "revoke"], { env: { HOME: home } });
      expect(revoked.code, revoked.stderr).toBe(0);
      await failedNight(4, /login/);

      renameSync(out, `${out}.moved`);
      writeFileSync(out, "not a folder");
      await failedNight(2, /--out .* is a file, not a folder/);
    }, 120_000);
  }
});
