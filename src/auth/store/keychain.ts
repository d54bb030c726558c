import { statSync } from "node:fs";
import { registerSecret } from "../../log/redact.js";
import { KeychainUnavailableError } from "../errors.js";

/** The OS keychain as rc-recordings uses it: one 256-bit key per profile, nothing else. */
export interface KeyVault {
  /** The key, or null when the keychain answers that it holds none. Rejects with KeychainUnavailableError. */
  get(account: string): Promise<Buffer | null>;
  set(account: string, key: Buffer): Promise<void>;
  delete(account: string): Promise<void>;
}

export const KEYCHAIN_SERVICE = "rc-recordings";
/** A keychain that does not answer within this time (locked and prompting, hung daemon) counts as unreachable. */
const DEFAULT_TIMEOUT_MS = 3_000;

type AsyncEntryClass = typeof import("@napi-rs/keyring").AsyncEntry;

/** The real keychain through @napi-rs/keyring, loaded only when a profile actually uses it. */
export class OsKeyVault implements KeyVault {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  async get(account: string): Promise<Buffer | null> {
    const password = await this.call("read", (entry, signal) => entry.getPassword(signal), account);
    registerSecret(password);
    return password === null ? null : Buffer.from(password, "base64");
  }

  async set(account: string, key: Buffer): Promise<void> {
    registerSecret(key.toString("base64"));
    await this.call("write", (entry, signal) => entry.setPassword(key.toString("base64"), signal), account);
  }

  async delete(account: string): Promise<void> {
    await this.call("delete", (entry, signal) => entry.deleteCredential(signal), account);
  }

  private async call<T>(
    what: string,
    op: (entry: InstanceType<AsyncEntryClass>, signal: AbortSignal) => Promise<T>,
    account: string,
  ): Promise<T> {
    // Without a session bus libsecret cannot reach the Secret Service; asking would only wait or fail obscurely.
    if (process.platform === "linux" && !this.env.DBUS_SESSION_BUS_ADDRESS) {
      // cron and system services start without the variable, but the user's bus may well be there (a desktop
      // session, or `loginctl enable-linger`): systemd puts it at /run/user/<uid>/bus. The native library reads
      // the process's own environment, so that is where the address goes.
      const bus = userBus(this.env);
      if (bus === undefined) {
        throw new KeychainUnavailableError(
          `the OS keychain is not reachable (no D-Bus session: DBUS_SESSION_BUS_ADDRESS is unset and ${userBusPath(this.env)} does not exist)`,
        );
      }
      this.env.DBUS_SESSION_BUS_ADDRESS = bus;
      process.env.DBUS_SESSION_BUS_ADDRESS = bus;
    }
    const { AsyncEntry } = await import("@napi-rs/keyring");
    // Pinned to the Secret Service: the library's silent fallback to the kernel keyring loses keys at logout
    // and differs between cron and a shell, which would look like a lost login.
    const entry = new AsyncEntry(KEYCHAIN_SERVICE, account, { linux: { store: "secret-service" } });
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new KeychainUnavailableError(
            `the OS keychain did not answer within ${this.timeoutMs / 1000} s (locked?)`,
          ),
        );
      }, this.timeoutMs);
    });
    try {
      // The race guards against a binding that ignores the abort signal.
      return await Promise.race([op(entry, controller.signal), timeout]);
    } catch (error) {
      if (error instanceof KeychainUnavailableError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new KeychainUnavailableError(`the OS keychain refused to ${what} the key: ${reason}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Run `read` against the keychain as a scheduled job reaches it: cron and system services start without
 * DBUS_SESSION_BUS_ADDRESS, so only the user's bus at $XDG_RUNTIME_DIR/bus (/run/user/<uid>/bus) can answer —
 * whatever this process's own environment has (a terminal in a desktop session has the address). Elsewhere than
 * Linux the keychain is reached as usual.
 */
export async function asScheduledJob<T>(
  env: NodeJS.ProcessEnv,
  read: (vault: KeyVault) => Promise<T>,
): Promise<T> {
  if (process.platform !== "linux") return read(new OsKeyVault(env));
  const { DBUS_SESSION_BUS_ADDRESS: ownBus, ...jobEnv } = env;
  const processBus = process.env.DBUS_SESSION_BUS_ADDRESS;
  delete process.env.DBUS_SESSION_BUS_ADDRESS; // the native library reads the process's environment
  try {
    return await read(new OsKeyVault(jobEnv));
  } finally {
    if (processBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = processBus;
    if (ownBus !== undefined) env.DBUS_SESSION_BUS_ADDRESS = ownBus;
  }
}

/** Where systemd puts the user's session bus: $XDG_RUNTIME_DIR/bus, which is /run/user/<uid>/bus. */
export function userBusPath(env: NodeJS.ProcessEnv): string {
  return `${env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? "?"}`}/bus`;
}

/** The D-Bus address of the user's session bus when its socket exists; undefined otherwise. */
function userBus(env: NodeJS.ProcessEnv): string | undefined {
  const path = userBusPath(env);
  try {
    return statSync(path).isSocket() ? `unix:path=${path}` : undefined;
  } catch {
    return undefined;
  }
}
