import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away certificate authority and one server certificate it signed, as PEM (and the CA as a file). */
export interface TlsMaterial {
  /** The CA certificate: what a client must trust (NODE_EXTRA_CA_CERTS=caFile). */
  caPem: string;
  caFile: string;
  certPem: string;
  keyPem: string;
  /** Remove the files (the PEM strings stay usable). */
  cleanup(): void;
}

/**
 * Make a CA and a server certificate for `hostNames` (plus 127.0.0.1 and ::1) with the system's `openssl`:
 * P-256 keys, valid for two days, a fresh pair per call, so nothing secret is ever kept in the tree.
 * Real certificate checks on the client side: the client trusts this CA and verifies the names.
 */
export function makeTlsMaterial(hostNames: readonly string[]): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), "rc-emulator-tls-"));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem"),
      "-days",
      "2",
      "-subj",
      "/CN=rc-recordings emulator throw-away CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
    const first = hostNames[0] ?? "localhost";
    openssl("req", ...ec, "-keyout", file("leaf.key"), "-out", file("leaf.csr"), "-subj", `/CN=${first}`);
    const names = [...new Set([...hostNames, "localhost"])].map((name) => `DNS:${name}`);
    writeFileSync(
      file("leaf.ext"),
      [
        `subjectAltName=${[...names, "IP:127.0.0.1", "IP:::1"].join(",")}`,
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=serverAuth",
      ].join("\n"),
    );
    openssl(
      "x509",
      "-req",
      "-in",
      file("leaf.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-set_serial",
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      "-days",
      "2",
      "-extfile",
      file("leaf.ext"),
      "-out",
      file("leaf.pem"),
    );
    rmSync(file("ca.key")); // nobody signs anything else with it
    return {
      caPem: readFileSync(file("ca.pem"), "utf8"),
      caFile: file("ca.pem"),
      certPem: readFileSync(file("leaf.pem"), "utf8"),
      keyPem: readFileSync(file("leaf.key"), "utf8"),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `cannot make the emulator's TLS certificate with openssl: ${stderr || (error as Error).message}`,
    );
  }
}
