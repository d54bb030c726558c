import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "../lib/context.js";
import { measure } from "../lib/measure.js";
import { CLI, freshDir } from "../lib/rc.js";
import { fmt, median, type ScenarioResult } from "../lib/report.js";

/**
 * `rc-recordings verify` against `sha256sum` over the same files: an archive of `files` recordings written
 * here (random bytes, a manifest with their sizes and digests, hash-chained and ending in a signed checkpoint as
 * a signed download leaves it), so no download is needed. verify follows the chain, checks the checkpoint with
 * the public key (`--public-key`) and looks for the head (`--chain-head`): the whole proof is in the time. Both read from the
 * page cache (warmed by one untimed pass of each), which makes the comparison about hashing and I/O overhead,
 * not about the disk. Rounds alternate the two tools; each tool's result is its median round.
 */
export async function verify(ctx: BenchContext): Promise<ScenarioResult> {
  const files = ctx.quick ? 16 : 64;
  const fileBytes = (ctx.quick ? 8 : 16) * 1024 * 1024;
  const rounds = ctx.quick ? 3 : 5;
  const out = freshDir(ctx.dir, "archive");
  ctx.log(`  writing ${files} × ${fmt.mib(fileBytes)}…`);
  const { paths, head, publicKey } = writeArchive(out, files, fileBytes);
  const keyFile = join(ctx.dir, "public-key.pem");
  writeFileSync(keyFile, publicKey);
  const totalBytes = files * fileBytes;

  const runVerify = () =>
    measure(
      process.execPath,
      [CLI, "verify", "--out", out, "--json", "--public-key", keyFile, "--chain-head", head],
      {
        maxRssPreload: ctx.scripts.maxrss,
      },
    );
  const runSha = () => measure("sha256sum", paths, {});
  // Warm-up: both read every file once, so the timed rounds start from the same warm cache.
  for (const warm of [await runSha(), await runVerify()]) {
    if (warm.code !== 0) throw new Error(`warm-up exited ${warm.code}: ${warm.stderr.trim()}`);
  }
  const times = { rc: [] as number[], sha: [] as number[], rss: [] as number[] };
  ctx.log(`  ${rounds} rounds of (verify, sha256sum)…`);
  for (let i = 0; i < rounds; i++) {
    const rc = await runVerify();
    const report = JSON.parse(rc.stdout) as {
      checked: number;
      ok: number;
      chain: { broken: unknown; headFound: boolean; checkpoints: { count: number } };
    };
    const proven =
      report.chain.broken === null && report.chain.headFound && report.chain.checkpoints.count === 1;
    if (rc.code !== 0 || report.ok !== files || !proven)
      throw new Error(`verify exited ${rc.code}: ${rc.stderr.trim()}`);
    times.rc.push(rc.wallMs);
    times.rss.push(rc.peakRss ?? Number.NaN);
    const sha = await runSha();
    if (sha.code !== 0) throw new Error(`sha256sum exited ${sha.code}`);
    times.sha.push(sha.wallMs);
  }
  const rcRate = totalBytes / (median(times.rc) / 1000);
  const shaRate = totalBytes / (median(times.sha) / 1000);
  const ratio = rcRate / shaRate;
  const title = `6. Verify (with the hash chain and a signed checkpoint): ${files} × ${fmt.mib(fileBytes)} recordings (page cache warm)`;
  return {
    id: "verify",
    title,
    rows: [
      {
        scenario: title,
        // Whole MB/s: the row fits the README table's columns as they are.
        metric: `throughput (× sha256sum ${mbps(shaRate)})`,
        values: { "rc-recordings": `${mbps(rcRate)} (${fmt.x(ratio)})` },
        target: "≥ 0.8 ×",
        met: ratio >= 0.8,
      },
      {
        scenario: title,
        metric: "peak RSS",
        values: { "rc-recordings": fmt.mib(median(times.rss)) },
      },
    ],
    raw: { files, fileBytes, rounds, wallMs: times, rcRate, shaRate, ratio },
  };
}

function mbps(bytesPerSec: number): string {
  return `${Math.round(bytesPerSec / 1e6)} MB/s`;
}

/** The manifest's canonical form (docs/proof.md): keys sorted, no whitespace; the records here are flat. */
function canonical(record: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))));
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * Recordings in two date folders plus the manifest `verify` checks them against: a chain start, one linked
 * record per recording and a checkpoint signed with a key made here. Returns the head and the public key.
 */
function writeArchive(
  out: string,
  files: number,
  fileBytes: number,
): { paths: string[]; head: string; publicKey: string } {
  const paths: string[] = [];
  const lines: string[] = [];
  const append = (record: Record<string, unknown>) => {
    lines.push(canonical({ ...record, prev: record.prev ?? sha256(lines.at(-1) as string) }));
  };
  append({
    record: "chain-start",
    version: 1,
    at: new Date().toISOString(),
    priorLines: 0,
    prev: sha256(""),
  });
  for (let i = 0; i < files; i++) {
    const path = `2026-11-0${1 + (i % 2)}/call_${String(i).padStart(4, "0")}.mp3`;
    const bytes = randomBytes(fileBytes);
    mkdirSync(join(out, path, ".."), { recursive: true });
    writeFileSync(join(out, path), bytes);
    paths.push(join(out, path));
    append({
      recordingId: String(2_800_000_000 + i),
      callId: `call-${i}`,
      path,
      bytes: fileBytes,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      contentType: "audio/mpeg",
      startTime: new Date(Date.UTC(2026, 10, 1 + (i % 2), 0, i)).toISOString(),
    });
  }
  const keys = generateKeyPairSync("ed25519");
  const key = createHash("sha256")
    .update(keys.publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
  const signed = {
    record: "checkpoint",
    head: sha256(lines.at(-1) as string),
    count: lines.length,
    at: new Date().toISOString(),
    key,
  };
  const signature = sign(null, Buffer.from(canonical(signed)), keys.privateKey).toString("base64");
  append({ ...signed, signature });
  mkdirSync(join(out, ".rc-recordings"), { recursive: true });
  writeFileSync(join(out, ".rc-recordings", "manifest.jsonl"), `${lines.join("\n")}\n`);
  return {
    paths,
    head: sha256(lines.at(-1) as string),
    publicKey: keys.publicKey.export({ type: "spki", format: "pem" }) as string,
  };
}
