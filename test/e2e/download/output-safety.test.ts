import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulatorEnv } from "../../helpers/emulator-env.js";
import { json, parseJson, startTamperProxy, type Tamper } from "../../helpers/tamper-proxy.js";
import { filesBelow, manifestOf } from "./helpers.js";
import { type ProxiedDownloadEnv, setupProxiedDownload } from "./proxied.js";

let e: ProxiedDownloadEnv | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await e?.stop();
  await cleanup?.();
  e = cleanup = undefined;
});

interface Page {
  records: Array<Record<string, unknown> & { from?: { name?: string }; recording?: unknown }>;
}

/** Rewrite every record of every call-log page; `bearer` is the access token the request carried. */
function records(rewrite: (record: Page["records"][number], bearer: string) => void): Tamper {
  return async (req, ctx) => {
    if (!req.url.pathname.endsWith("/call-log")) return undefined;
    const page = parseJson<Page>(await ctx.forward());
    const bearer = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
    for (const record of page.records) rewrite(record, bearer);
    return json(page);
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for raw control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe("output: secrets out, ordinary text untouched", () => {
  it("a caller named 'Acme Basic Services' prints as is: --dry-run --json plans the paths a real run writes", async () => {
    e = await setupProxiedDownload(
      {},
      records((record) => {
        if (record.from) record.from.name = "Acme Basic Services";
      }),
    );
    const template = ["--template", "{fromName}/{recordingId}.{ext}"];
    const dry = await e.download([...template, "--dry-run", "--json"]);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = (JSON.parse(dry.stdout) as { planned: string[] }).planned;
    expect(planned.some((path) => path.startsWith("Acme Basic Services/"))).toBe(true);
    expect(dry.stdout).not.toMatch(/\*\*\*/);
    const real = await e.download(template);
    expect(real.code, real.stderr).toBe(0);
    // Every planned MP3 path is a real one (a dry run assumes mp3; WAV recordings end in .wav for real).
    const written = new Set(filesBelow(e.out));
    for (const path of planned) {
      expect(written.has(path) || written.has(path.replace(/\.mp3$/, ".wav")), path).toBe(true);
    }
  });

  it("a token the server echoes into a record never reaches a --metadata sidecar", async () => {
    let echoed = "";
    e = await setupProxiedDownload(
      {},
      records((record, bearer) => {
        echoed = bearer;
        record.debug = { echo: bearer, uri: `https://example.invalid/x?access_token=${bearer}` };
      }),
    );
    const result = await e.download(["--metadata"]);
    expect(result.code, result.stderr).toBe(0);
    expect(echoed.length).toBeGreaterThan(0);
    const entries = manifestOf(e.out);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      const sidecar = readFileSync(join(e.out, `${entry.path}.json`), "utf8");
      expect(JSON.parse(sidecar)).toBeTruthy(); // still a valid document
      expect(sidecar).not.toContain(echoed);
    }
  });

  it("control characters in a server's error message are shown, not obeyed", async () => {
    e = await setupProxiedDownload({}, (req) =>
      req.url.pathname.endsWith("/call-log")
        ? json({ errors: [{ errorCode: "CMN-101", message: "bad\u001b]0;owned\u0007 \rline\u009b2J" }] }, 400)
        : undefined,
    );
    const result = await e.download(["--scope", "account"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad\\x1b\]0;owned\\x07 \\x0dline\\x9b2J/);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });
});

describe("output: secrets in the forms a server echoes", () => {
  it("an echoed Basic header (base64 of clientId:secret) and a short client secret are redacted", async () => {
    const secret = "s3cr3t"; // six characters: too short for the old redactor
    const base = await startEmulatorEnv({ emulator: { credentials: { clientSecret: secret } } });
    const proxy = await startTamperProxy(base.emu, (req) =>
      req.url.pathname === "/restapi/oauth/token"
        ? json(
            {
              error: "invalid_client",
              error_description: `rejected header ${String(req.headers.authorization)}; secret ${secret} is wrong`,
            },
            400,
          )
        : undefined,
    );
    cleanup = async () => {
      await proxy.stop();
      await base.stop();
    };
    const result = await base.run(["login"], { env: { RC_SERVER_URL: proxy.origin } });
    expect(result.code).toBe(4);
    const basic = Buffer.from(`${base.emu.credentials.clientId}:${secret}`).toString("base64");
    expect(result.stderr).toMatch(/rejected header Basic \*\*\*; secret \*\*\* is wrong/);
    expect(result.stderr).not.toContain(basic);
    expect(result.stderr).not.toContain(secret);
  });
});
