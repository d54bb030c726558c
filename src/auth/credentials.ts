import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { serverUrlProblem } from "../api/hosts.js";
import { UsageError } from "../errors.js";
import { registerClientCredentials, registerSecret } from "../log/redact.js";
import type { AppCredentials } from "./profile.js";

export const DEFAULT_SERVER = "https://platform.ringcentral.com";

/** The `login` flags that carry credentials. Secrets only ever come as files (flags show in `ps` and history). */
/** As commander hands them over: a flag that was not given is undefined. */
export interface CredentialFlags {
  server?: string | undefined;
  clientId?: string | undefined;
  clientSecretFile?: string | undefined;
  jwtFile?: string | undefined;
}

/** Asks a person at a terminal; absent when nobody is there (cron, CI, pipes). */
export interface Prompter {
  text(message: string): Promise<string>;
  secret(message: string): Promise<string>;
}

export interface CredentialSources {
  flags: CredentialFlags;
  env: NodeJS.ProcessEnv;
  /** What the profile stored at its last login, if anything. */
  stored?: AppCredentials | undefined;
  prompter?: Prompter;
  /** Reads all of stdin (for `--jwt-file -` / `--client-secret-file -`). */
  readStdin(): Promise<string>;
}

/** RingCentral's quick-start names first, then the older and the SDK-test spellings. */
export const ENV_NAMES = {
  server: ["RC_SERVER_URL", "RINGCENTRAL_SERVER_URL"],
  clientId: ["RC_APP_CLIENT_ID", "RC_CLIENT_ID", "RINGCENTRAL_CLIENT_ID"],
  clientSecret: ["RC_APP_CLIENT_SECRET", "RC_CLIENT_SECRET", "RINGCENTRAL_CLIENT_SECRET"],
  jwt: ["RC_USER_JWT", "RC_JWT", "RINGCENTRAL_JWT_TOKEN"],
} as const satisfies Record<keyof AppCredentials, readonly string[]>;

/** How to supply each value, for the "missing" message. */
const HOW_TO_SUPPLY: Record<keyof AppCredentials, string> = {
  server: `--server or ${ENV_NAMES.server[0]}`,
  clientId: `--client-id or ${ENV_NAMES.clientId[0]}`,
  clientSecret: `--client-secret-file or ${ENV_NAMES.clientSecret[0]}`,
  jwt: `--jwt-file or ${ENV_NAMES.jwt[0]}`,
};

const LABELS: Record<keyof AppCredentials, string> = {
  server: "server URL",
  clientId: "client id",
  clientSecret: "client secret",
  jwt: "JWT credential",
};

/**
 * The app credentials for `login`, each value from the first source that has it: flags, then environment, then
 * what the profile stored, then a prompt (hidden for secrets) when a person is at the terminal. Without one, a
 * missing value is a UsageError (exit 2) that names every missing value and how to supply it.
 */
export async function resolveCredentials(sources: CredentialSources): Promise<AppCredentials> {
  const { flags, env, stored } = sources;
  if (flags.clientSecretFile === "-" && flags.jwtFile === "-") {
    throw new UsageError("only one of --client-secret-file and --jwt-file can read stdin (-)");
  }
  const server = flags.server ?? fromEnv(env, "server") ?? stored?.server ?? DEFAULT_SERVER;
  const found: { [K in keyof AppCredentials]: AppCredentials[K] | undefined } = {
    server: normalizeServer(server),
    clientId:
      flags.clientId ??
      fromEnv(env, "clientId") ??
      (await fromCredentials(env, "clientId")) ??
      stored?.clientId,
    clientSecret:
      (await fromFile(flags.clientSecretFile, "--client-secret-file", sources)) ??
      fromEnv(env, "clientSecret") ??
      (await fromCredentials(env, "clientSecret")) ??
      stored?.clientSecret,
    jwt:
      (await fromFile(flags.jwtFile, "--jwt-file", sources)) ??
      fromEnv(env, "jwt") ??
      (await fromCredentials(env, "jwt")) ??
      stored?.jwt,
  };
  registerSecret(found.clientSecret);
  registerSecret(found.jwt);

  const missing = (["clientId", "clientSecret", "jwt"] as const).filter((key) => !found[key]);
  if (missing.length > 0 && !sources.prompter) {
    const list = missing.map((key) => `${LABELS[key]} (${HOW_TO_SUPPLY[key]})`).join(", ");
    throw new UsageError(`missing ${list}; no terminal to ask for them`);
  }
  for (const key of missing) {
    const prompter = sources.prompter as Prompter;
    const value = (
      key === "clientId" ? await prompter.text(`${LABELS[key]}: `) : await prompter.secret(`${LABELS[key]}: `)
    ).trim();
    if (!value) throw new UsageError(`no ${LABELS[key]} given`);
    if (key !== "clientId") registerSecret(value);
    found[key] = value;
  }
  registerClientCredentials(found.clientId, found.clientSecret);
  return found as AppCredentials;
}

/**
 * systemd credentials: a unit's `LoadCredential=rc-recordings-jwt:/etc/…` (or `SetCredentialEncrypted=`) puts the
 * secret in a file under $CREDENTIALS_DIRECTORY that only the service can read, never in its environment.
 */
export const CREDENTIAL_NAMES: Record<Exclude<keyof AppCredentials, "server">, string> = {
  clientId: "rc-recordings-client-id",
  clientSecret: "rc-recordings-client-secret",
  jwt: "rc-recordings-jwt",
};

async function fromCredentials(
  env: NodeJS.ProcessEnv,
  key: Exclude<keyof AppCredentials, "server">,
): Promise<string | undefined> {
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) return undefined;
  const text = await readFile(join(dir, CREDENTIAL_NAMES[key]), "utf8").catch(() => undefined);
  return text?.trim() || undefined;
}

function fromEnv(env: NodeJS.ProcessEnv, key: keyof AppCredentials): string | undefined {
  for (const name of ENV_NAMES[key]) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

async function fromFile(
  path: string | undefined,
  flag: string,
  sources: CredentialSources,
): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = path === "-" ? await sources.readStdin() : await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const value = text.trim();
  if (!value) throw new UsageError(`${flag} ${path} is empty`);
  return value;
}

/**
 * The API origin without a trailing slash. Plain http only for loopback hosts (a local emulator): anywhere else
 * it would send the client secret and tokens in the clear.
 */
export function normalizeServer(value: string): string {
  const problem = serverUrlProblem(value);
  if (problem) throw new UsageError(`--server: "${value}" ${problem} (e.g. ${DEFAULT_SERVER})`);
  return new URL(value).origin;
}
