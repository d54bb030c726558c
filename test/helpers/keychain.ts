import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface KeychainAvailability {
  available: boolean;
  /** Why not (shown as the skip reason, or as the failure when the keychain is required). */
  reason: string;
}

/** CI sets this: there, a missing Secret Service fails the keychain tests instead of skipping them. */
export const KEYCHAIN_REQUIRED = process.env.RC_RECORDINGS_REQUIRE_KEYCHAIN === "1";

let cached: Promise<KeychainAvailability> | undefined;

/**
 * Whether a real Secret Service answers on this machine: a D-Bus session, `secret-tool`, and a write/read/delete
 * round trip through @napi-rs/keyring pinned to the Secret Service, within 3 s. Locally, run the keychain tests
 * with `bash .ci/with-secret-service.sh npx vitest run test/e2e/auth`.
 */
export function keychainAvailability(): Promise<KeychainAvailability> {
  cached ??= probe();
  return cached;
}

async function probe(): Promise<KeychainAvailability> {
  if (process.platform !== "linux")
    return { available: false, reason: "keychain e2e tests run on Linux only" };
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    return {
      available: false,
      reason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS unset); use with-secret-service.sh",
    };
  }
  try {
    await exec("sh", ["-c", "command -v secret-tool"]);
  } catch {
    return { available: false, reason: "secret-tool is not installed (package libsecret-tools)" };
  }
  try {
    const { AsyncEntry } = await import("@napi-rs/keyring");
    const entry = new AsyncEntry("rc-recordings-test-probe", `probe-${process.pid}`, {
      linux: { store: "secret-service" },
    });
    const roundTrip = (async () => {
      await entry.setPassword("probe");
      const back = await entry.getPassword();
      await entry.deleteCredential();
      return back === "probe";
    })();
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3_000).unref());
    if (!(await Promise.race([roundTrip, timeout]))) {
      return {
        available: false,
        reason: "the Secret Service did not answer a write/read round trip within 3 s",
      };
    }
  } catch (error) {
    return {
      available: false,
      reason: `the Secret Service refused a round trip: ${(error as Error).message}`,
    };
  }
  return { available: true, reason: "" };
}

/** Keychain items rc-recordings created for `profile` (accounts `<profile>:<keyId>`), via secret-tool. */
export async function keychainAccounts(profile: string): Promise<string[]> {
  // secret-tool prints the item's label and secret on stdout but its attributes on stderr.
  const { stderr } = await exec("secret-tool", ["search", "--all", "service", "rc-recordings"]).catch(() => ({
    stderr: "",
  }));
  return [...stderr.matchAll(/^attribute\.username = (.+)$/gm)]
    .map((m) => m[1] as string)
    .filter((account) => account.startsWith(`${profile}:`));
}

/** Remove one keychain item rc-recordings created (test cleanup). */
export async function removeKeychainAccount(account: string): Promise<void> {
  await exec("secret-tool", ["clear", "service", "rc-recordings", "username", account]).catch(
    () => undefined,
  );
}
