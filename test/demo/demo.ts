/**
 * `npm run demo`: the whole product against the local emulator, with a throw-away profile and store.
 * login -> download (into ./demo-recordings) -> token status -> token revoke, then stop the emulator.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
const out = resolve("demo-recordings");

function step(args: string[]): Promise<number> {
  process.stderr.write(`\n$ rc-recordings ${args.join(" ")}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("close", (code) => done(code ?? 1));
  });
}

let failed = false;
try {
  for (const args of [
    ["login"],
    ["download", "--out", out, "--from", "2d"],
    ["token", "status"],
    ["token", "revoke"],
    ["token", "status"],
  ]) {
    const code = await step(args);
    process.stderr.write(`(exit ${code})\n`);
    // The last status is expected to say "not logged in" (exit 4) after the revoke.
    if (code !== 0 && !(args[0] === "token" && args[1] === "status" && code === 4)) {
      failed = true;
      break;
    }
  }
  process.stderr.write(
    `\nemulator: ${emulator.stats.jwtLogins} JWT login(s), ${emulator.stats.contentRequestsCompleted} recording(s) sent; files in ${out}\n`,
  );
} finally {
  await emulator.stop();
  rmSync(configHome, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
