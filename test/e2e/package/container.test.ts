import { execFile } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnCli, tempDir } from "../../helpers/cli.js";
import { type DownloadEnv, partials, setupDownload, waitFor } from "../download/helpers.js";

// No image can be built on these machines. What the Dockerfile's runtime stage does can be: the same install
// command on a copy of what it copies, then the entry command; and how the CLI behaves as a container's PID 1
// (its own PID namespace, where the kernel ignores every signal the process has no handler for).

const exec = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");
/** The runtime stage's install step, exactly as the Dockerfile runs it. */
const RUNTIME_INSTALL = "npm ci --omit=dev --ignore-scripts --no-audit --no-fund";

describe("the Dockerfile", () => {
  it("builds in one stage and runs as a non-root user with the runtime dependencies only in another", () => {
    const stages = DOCKERFILE.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(2);
    const [build, runtime] = stages as [string, string];
    expect(build).toMatch(/^RUN npm ci --ignore-scripts/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(runtime).toContain(`RUN ${RUNTIME_INSTALL} `);
    expect(runtime).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/rc-recordings\.js"\]$/m);
    expect(runtime).toMatch(/RC_RECORDINGS_STORE=file/); // no keychain in a container
  });

  it("sends only what it copies to the build context", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8");
    expect(ignore).toMatch(/^\*$/m);
    const copied = [...DOCKERFILE.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) =>
      (m[1] as string).split(" "),
    );
    for (const path of copied) expect(ignore, path).toContain(`!${path.replace(/\/$/, "")}`);
  });
});

describe("the runtime stage's install step, on a copy", () => {
  let work: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    work = tempDir("rcr-image-");
    for (const path of ["package.json", "package-lock.json", "bin", "dist"]) {
      cpSync(join(ROOT, path), join(work.path, path), { recursive: true });
    }
    const [npm, ...args] = RUNTIME_INSTALL.split(" ") as [string, ...string[]];
    await exec(npm, [...args, "--prefer-offline"], { cwd: work.path, maxBuffer: 16 * 1024 * 1024 });
  }, 600_000);
  afterAll(() => work?.cleanup());

  it("installs no build tool, and the entry command runs", async () => {
    expect(existsSync(join(work.path, "node_modules", "typescript"))).toBe(false);
    expect(existsSync(join(work.path, "node_modules", "commander"))).toBe(true);
    const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: work.path };
    const entry = join(work.path, "bin", "rc-recordings.js");
    const version = await exec(process.execPath, [entry, "--version"], { env });
    expect(version.stdout).toMatch(/^rc-recordings \d+\.\d+\.\d+ \(Node\.js v/);
    const help = await exec(process.execPath, [entry, "download", "--help"], { env });
    expect(help.stdout).toContain("--max-duration");
  });
});

/** The CLI as PID 1 of a new PID namespace (as in a container without --init). */
function spawnAsPid1(args: readonly string[], env: NodeJS.ProcessEnv) {
  const run = spawnCli(args, { env, through: ["unshare", "--pid", "--fork", "--kill-child", "--"] });
  /** The CLI's process id as seen from here: unshare's one child. */
  const cliPid = (): number | undefined => {
    const path = `/proc/${run.child.pid}/task/${run.child.pid}/children`;
    const pid = existsSync(path) ? Number(readFileSync(path, "utf8").trim().split(" ")[0]) : Number.NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  return { ...run, cliPid };
}

describe("as a container's PID 1", () => {
  let e: DownloadEnv | undefined;
  afterEach(async () => {
    await e?.stop();
    e = undefined;
  });

  it("stops cleanly on SIGTERM: exit 130, partials kept, lock released; a rerun completes", async () => {
    e = await setupDownload({ calls: 3, recordingBytes: 300_000, faults: { bandwidth: 150_000 } });
    const env = e;
    const run = spawnAsPid1(["download", "--out", env.out], env.env);
    await waitFor(() => partials(env.out).some((p) => p.size > 0), 15_000, "a transfer in flight");
    const pid = run.cliPid();
    expect(pid).toBeDefined();
    // Its own view: PID 1 in its namespace.
    expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);
    process.kill(pid as number, "SIGTERM");
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(partials(env.out).length).toBeGreaterThan(0);
    expect(existsSync(join(env.out, ".rc-recordings", "lock"))).toBe(false);

    env.emu.control.setFaults({});
    const rerun = await env.download();
    expect(rerun.code, rerun.stderr).toBe(0);
  }, 90_000);
});
