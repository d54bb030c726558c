/**
 * `npm run demo`: the whole product against the local emulator, with a throw-away profile and store:
 * login -> download (into ./demo-recordings, or the folder given as the first argument) -> an incremental run
 * (nothing new: every recording is already there) -> verify -> the first rows of index.csv -> token status ->
 * token revoke -> token status, then stop the emulator. Exit 0 when every step ended as expected.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { start } from "../emulator/index.js";
import { CLI } from "../helpers/cli.js";

const emulator = await start({ dataset: { calls: 12 } });
const configHome = mkdtempSync(join(tmpdir(), "rc-recordings-demo-"));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  XDG_CONFIG_HOME: configHome,
  RC_RECORDINGS_PROFILE: "demo",
  RC_RECORDINGS_STORE: "file",
  RC_SERVER_URL: emulator.server,
  RC_APP_CLIENT_ID: emulator.credentials.clientId,
  RC_APP_CLIENT_SECRET: emulator.credentials.clientSecret,
  RC_USER_JWT: emulator.credentials.jwt,
};
const out = resolve(process.argv[2] ?? "demo-recordings");

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

function cli(args: string[]): Promise<number> {
  say(`\n$ rc-recordings ${args.join(" ")}`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (code) => done(code ?? 1));
  });
}

/** One step of the tour: what it shows, and the exit code it must end with. */
interface Step {
  note: string;
  run: () => Promise<number>;
  expect?: number;
}

const steps: Step[] = [
  { note: "log in once; the token pair is kept for every later run", run: () => cli(["login"]) },
  { note: "the first run: the last two days", run: () => cli(["download", "--out", out, "--from", "2d"]) },
  {
    note: "the nightly run: continues where the last one ended (nothing new here, nothing fetched twice)",
    run: () => cli(["download", "--out", out]),
  },
  { note: "re-hash every file against the manifest", run: () => cli(["verify", "--out", out]) },
  {
    note: "index.csv: one row per recording, for a spreadsheet (first rows)",
    run: async () => {
      say(`\n$ head -4 ${join(out, "index.csv")}`);
      const rows = readFileSync(join(out, "index.csv"), "utf8")
        .replace(/^\uFEFF/, "")
        .split("\n")
        .slice(0, 4);
      say(rows.join("\n"));
      return 0;
    },
  },
  { note: "the stored login", run: () => cli(["token", "status"]) },
  { note: "log out: the tokens are revoked and removed", run: () => cli(["token", "revoke"]) },
  { note: "logged out now: 'not logged in' is exit 4", run: () => cli(["token", "status"]), expect: 4 },
];

let failed = false;
try {
  for (const step of steps) {
    say(`\n# ${step.note}`);
    const code = await step.run();
    say(`(exit ${code})`);
    if (code !== (step.expect ?? 0)) {
      failed = true;
      break;
    }
  }
  say(
    `\nemulator: ${emulator.stats.jwtLogins} JWT login(s), ${emulator.stats.contentRequestsCompleted} recording(s) sent; files in ${out}`,
  );
} finally {
  await emulator.stop();
  rmSync(configHome, { recursive: true, force: true });
}
say(failed ? "\ndemo: a step did not end as expected (see above)" : "\ndemo: every step ended as expected");
process.exitCode = failed ? 1 : 0;
