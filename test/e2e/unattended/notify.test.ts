import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterEach, describe, expect, it } from "vitest";
import { newLockHolder } from "../../../src/destination/lock-holder.js";
import { pingListener } from "../../helpers/ping-listener.js";
import { type DownloadEnv, manifestOf, setupDownload } from "../download/helpers.js";

let e: DownloadEnv | undefined;
let listener: Awaited<ReturnType<typeof pingListener>> | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
  await listener?.close();
  listener = undefined;
});

/** A ping listener closed after the test. */
async function listen(answer = true) {
  listener = await pingListener(answer);
  return listener;
}

/** Every secret the login involves: none may appear in a ping body or a log line. */
function secretsOf(env: DownloadEnv): string[] {
  const { clientSecret, jwt } = env.emu.credentials;
  return [clientSecret, jwt, ...env.emu.control.issuedTokens()].filter((s) => s.length > 0);
}

describe("--ping-url", () => {
  it("pings URL/start, then URL with the JSON result on success, URL/fail on failure; no secret, no URL in the log", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const { url, pings } = await listen();
    const ok = await e.download(["--ping-url", url]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(pings.map((p) => `${p.method} ${p.path}`)).toEqual([
      "POST /ping/5f3c9a7e-check-uuid/start",
      "POST /ping/5f3c9a7e-check-uuid",
    ]);
    expect(JSON.parse(pings[1]?.body ?? "")).toMatchObject({ schema: 1, exitCode: 0, downloaded: 3 });

    pings.length = 0;
    const nobody = await e.run(["--profile", "nobody", "download", "--out", e.out], {
      env: { RC_RECORDINGS_PING_URL: url },
    });
    expect(nobody.code).toBe(4);
    expect(pings.map((p) => p.path)).toEqual([
      "/ping/5f3c9a7e-check-uuid/start",
      "/ping/5f3c9a7e-check-uuid/fail",
    ]);
    expect(JSON.parse(pings[1]?.body ?? "")).toMatchObject({ exitCode: 4, profile: "nobody" });

    pings.length = 0;
    const usage = await e.download(["--ping-url", url, "--from", "yesterday-ish"]);
    expect(usage.code).toBe(2);
    expect(pings.map((p) => p.path)).toEqual([
      "/ping/5f3c9a7e-check-uuid/start",
      "/ping/5f3c9a7e-check-uuid/fail",
    ]);

    for (const secret of secretsOf(e)) {
      for (const ping of pings) expect(ping.body).not.toContain(secret);
    }
    for (const run of [ok, nobody, usage])
      expect(run.stderr + run.stdout).not.toContain("5f3c9a7e-check-uuid");
  }, 60_000);

  it("a monitor that never answers costs the run at most the ping budget, and the exit code stays", async () => {
    e = await setupDownload({ calls: 2, withRecordingRatio: 1 });
    const { url, pings } = await listen(false);
    const began = Date.now();
    const r = await e.download(["--ping-url", url]);
    const took = Date.now() - began;
    expect(r.code, r.stderr).toBe(0);
    expect(pings.map((p) => p.path)).toEqual([
      "/ping/5f3c9a7e-check-uuid/start",
      "/ping/5f3c9a7e-check-uuid",
    ]);
    expect(r.stderr).toMatch(/the success ping to 127\.0\.0\.1:\d+ failed \(no answer within \d+ s\)/);
    // The budget is 15 s for both pings; the rest is the run itself on a loaded machine.
    expect(took).toBeLessThan(15_000 + 15_000);
  }, 60_000);
});

describe("usage errors commander itself rejects", () => {
  it("ping and write the metrics file when the line, the environment or the config file named them", async () => {
    e = await setupDownload({ calls: 1, withRecordingRatio: 1 });
    const { url, pings } = await listen();
    const metrics = join(e.dir, "rc.prom");
    const exitCodeIn = (file: string) => {
      const families = parsePrometheusTextFormat(readFileSync(file, "utf8"));
      return Number(families.find((f) => f.name === "rc_recordings_last_exit_code")?.metrics[0]?.value);
    };
    const expectFailPing = (what: string) => {
      expect(
        pings.map((p) => p.path),
        what,
      ).toEqual(["/ping/5f3c9a7e-check-uuid/fail"]);
      expect(JSON.parse(pings[0]?.body ?? ""), what).toMatchObject({ schema: 1, exitCode: 2 });
      pings.length = 0;
    };
    const cases: [string, string[], NodeJS.ProcessEnv][] = [
      [
        "an unknown option after them",
        ["download", "--ping-url", url, "--metrics-file", metrics, "--bogus"],
        {},
      ],
      [
        "an unknown option before them",
        ["download", "--bogus", "--ping-url", url, `--metrics-file=${metrics}`],
        {},
      ],
      ["a missing value", ["download", "--ping-url", url, "--metrics-file", metrics, "--out"], {}],
      [
        "the environment",
        ["download", "--out", e.out, "--concurrency", "0"],
        { RC_RECORDINGS_PING_URL: url, RC_RECORDINGS_METRICS_FILE: metrics },
      ],
      [
        "--quiet with --verbose",
        ["--quiet", "--verbose", "download", "--ping-url", url, "--metrics-file", metrics],
        {},
      ],
    ];
    for (const [what, args, env] of cases) {
      rmSync(metrics, { force: true });
      const r = await e.run(args, { env });
      expect(r.code, what).toBe(2);
      expectFailPing(what);
      expect(exitCodeIn(metrics), what).toBe(2);
    }

    // The config file: its values reach a run that commander ended before the file was read.
    const configFile = join(e.dir, "config.toml");
    writeFileSync(configFile, `[profiles.default]\nping-url = "${url}"\nmetrics-file = "${metrics}"\n`);
    rmSync(metrics, { force: true });
    const fromFile = await e.run(["download", "--out", e.out, "--bogus"], {
      env: { RC_RECORDINGS_CONFIG: configFile },
    });
    expect(fromFile.code).toBe(2);
    expectFailPing("the config file");
    expect(exitCodeIn(metrics)).toBe(2);

    // A ping URL that is no URL: one usage line, and the metrics file still says how the run ended.
    rmSync(metrics, { force: true });
    const badUrl = await e.download(["--ping-url", "not a url", "--metrics-file", metrics]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr.trim().split("\n")).toHaveLength(1);
    expect(exitCodeIn(metrics)).toBe(2);
    expect(pings).toEqual([]);
  }, 120_000);
});

describe("--metrics-file", () => {
  it("writes Prometheus textfile metrics a real parser reads; a failed run keeps the last success", async () => {
    e = await setupDownload({ calls: 4, withRecordingRatio: 1 });
    const file = join(e.dir, "rc.prom");
    const ok = await e.download(["--metrics-file", file]);
    expect(ok.code, ok.stderr).toBe(0);
    const families = new Map(parsePrometheusTextFormat(readFileSync(file, "utf8")).map((f) => [f.name, f]));
    const value = (name: string) => {
      const family = families.get(`rc_recordings_${name}`);
      expect(family?.type, name).toBe("GAUGE");
      expect(family?.help, name).not.toBe("");
      expect(family?.metrics).toHaveLength(1);
      expect(family?.metrics[0]?.labels).toEqual({ profile: "default", out: e?.out });
      return Number(family?.metrics[0]?.value);
    };
    const now = Date.now() / 1000;
    expect(value("last_run_timestamp_seconds")).toBeGreaterThan(now - 120);
    const success = value("last_success_timestamp_seconds");
    expect(success).toBe(value("last_run_timestamp_seconds"));
    expect(value("last_exit_code")).toBe(0);
    expect(value("recordings_saved")).toBe(4);
    expect(value("archive_recordings")).toBe(manifestOf(e.out).length);
    expect(value("backlog_recordings")).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await e.run(["token", "revoke"])).code).toBe(0);
    const failed = await e.download(["--metrics-file", file]);
    expect(failed.code).toBe(4);
    const again = new Map(parsePrometheusTextFormat(readFileSync(file, "utf8")).map((f) => [f.name, f]));
    const sample = (name: string) => Number(again.get(`rc_recordings_${name}`)?.metrics[0]?.value);
    expect(sample("last_exit_code")).toBe(4);
    expect(sample("last_success_timestamp_seconds")).toBe(success);
    expect(sample("last_run_timestamp_seconds")).toBeGreaterThan(success);
    expect(sample("archive_recordings")).toBe(4);
    // Replaced atomically: no temporary file is left beside it.
    expect(readdirSync(e.dir).filter((f) => f.startsWith("rc.prom") && f !== "rc.prom")).toEqual([]);
  }, 60_000);
});

describe("--exec", () => {
  const hostile = [
    { id: "62264425102", extensionNumber: "102", name: "$(touch PWNED1)" },
    { id: "62264425103", extensionNumber: "103", name: "`touch PWNED2`" },
    { id: "62264425104", extensionNumber: "104", name: "x; touch PWNED3; '\"" },
  ];

  it("runs the hook per saved recording with the values in the environment only: hostile names execute nothing", async () => {
    e = await setupDownload({ calls: 6, withRecordingRatio: 1, extensions: hostile });
    const log = join(e.dir, "hook.log");
    const hook = `printf '%s|%s|%s|%s|%s|%s\\n' "$RC_RECORDING_PATH" "$RC_RECORDING_ID" "$RC_RECORDING_SHA256" "$RC_RECORDING_BYTES" "$RC_CALL_ID" "$RC_CALL_START_TIME" >> '${log}'; test -z "$RC_APP_CLIENT_SECRET"`;
    const r = await e.download(
      ["--scope", "account", "--template", "{extensionName}/{recordingId}.{ext}", "--exec", hook, "--json"],
      {
        cwd: e.dir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { downloaded: number };
    expect(result.downloaded).toBeGreaterThan(0);
    expect(result).toMatchObject({ exec: { ran: result.downloaded, failed: 0 } });
    const lines = readFileSync(log, "utf8").trim().split("\n");
    const entries = manifestOf(e.out);
    expect(lines).toHaveLength(entries.length);
    for (const entry of entries) {
      const line = lines.find((l) => l.split("|")[1] === entry.recordingId) ?? "";
      const [path, , sha, bytes, callId, start] = line.split("|");
      expect(path).toBe(join(e.out, ...entry.path.split("/")));
      expect(existsSync(path as string)).toBe(true);
      expect(sha).toBe(entry.sha256);
      expect(Number(bytes)).toBe(entry.bytes);
      expect(callId).not.toBe("");
      expect(start).toBe(entry.startTime);
    }
    expect(lines.some((l) => l.includes("$(touch PWNED1)"))).toBe(true);
    for (const dir of [e.dir, e.out, process.cwd()]) {
      expect(readdirSync(dir).filter((f) => f.startsWith("PWNED"))).toEqual([]);
    }
  }, 60_000);

  it("a failing hook: exit 3, the recording stays archived, the next run runs the hook again for it only", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const log = join(e.dir, "hook.log");
    const first = await e.download(["--dry-run", "--json"]);
    const victim = (JSON.parse(first.stdout) as { planned: string[] }).planned[0]?.match(/_(\d+)\.\w+$/)?.[1];
    expect(victim).toBeDefined();
    const hook = (fail: boolean) =>
      `echo "$RC_RECORDING_ID" >> '${log}'; ${fail ? `test "$RC_RECORDING_ID" != "${victim}"` : "true"}`;
    const failing = await e.download(["--exec", hook(true)]);
    expect(failing.code, failing.stderr).toBe(3);
    expect(failing.stderr).toContain(`--exec failed for recording ${victim} (exit 1)`);
    expect(manifestOf(e.out).map((m) => m.recordingId)).toContain(victim);
    expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(3);

    const retried = await e.download(["--exec", hook(false)]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(readFileSync(log, "utf8").trim().split("\n").slice(3)).toEqual([victim]);
    const quiet = await e.download(["--exec", hook(false)]);
    expect(quiet.code).toBe(0);
    expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(4); // nothing left to run again
  }, 60_000);

  it("the list of failed hooks is the archive's state: read and rewritten only under its lock", async () => {
    e = await setupDownload({ calls: 3, withRecordingRatio: 1 });
    const log = join(e.dir, "hook.log");
    const hook = (fail: boolean) => `echo "$RC_RECORDING_ID" >> '${log}'; ${fail ? "exit 1" : "true"}`;
    const hookLines = () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []);
    const state = join(e.out, ".rc-recordings");
    const pendingFile = join(state, "exec-pending.json");
    const pendingIds = () =>
      (JSON.parse(readFileSync(pendingFile, "utf8")) as { recordingId: string }[]).map((r) => r.recordingId);

    // Every hook fails: all three recordings wait for their hook. The list is written before the lock goes.
    const events: string[] = [];
    mkdirSync(state, { recursive: true });
    const watcher = watch(state, (_event, name) => {
      if (name === "lock" || name?.includes("exec-pending.json")) events.push(name);
    });
    const failing = await e.download(["--exec", hook(true)]);
    watcher.close();
    expect(failing.code, failing.stderr).toBe(3);
    expect(pendingIds()).toHaveLength(3);
    expect(events.lastIndexOf("lock"), events.join(" ")).toBeGreaterThan(
      events.findLastIndex((name) => name.includes("exec-pending.json")),
    );
    expect(events.indexOf("lock")).toBeLessThan(
      events.findIndex((name) => name.includes("exec-pending.json")),
    );

    // A run that finds the archive busy runs none of them and leaves the list alone.
    const before = readFileSync(pendingFile, "utf8");
    const waiting = pendingIds();
    writeFileSync(join(state, "lock"), JSON.stringify(newLockHolder()));
    const busy = await e.download(["--exec", hook(false)]);
    expect(busy.code, busy.stderr).toBe(5);
    expect(hookLines()).toHaveLength(3);
    expect(readFileSync(pendingFile, "utf8")).toBe(before);

    rmSync(join(state, "lock"));
    const retried = await e.download(["--exec", hook(false)]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(hookLines().slice(3).sort()).toEqual(waiting.sort());
    expect(pendingIds()).toEqual([]);
  }, 60_000);
});
