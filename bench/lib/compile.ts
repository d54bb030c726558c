import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const BENCH = fileURLToPath(new URL("..", import.meta.url));
export const WORK_DIR = join(BENCH, ".work");
const OUT = join(WORK_DIR, "bin");

/** Scripts run as measured children, transpiled once so no TypeScript loader runs inside a measurement. */
const SCRIPTS = {
  naive: { source: "peers/naive.ts", module: ts.ModuleKind.ESNext, ext: ".js" },
  concurrent: { source: "peers/concurrent.ts", module: ts.ModuleKind.ESNext, ext: ".js" },
  sdkPeer: { source: "peers/sdk-peer.ts", module: ts.ModuleKind.ESNext, ext: ".js" },
  maxrss: { source: "lib/maxrss-preload.ts", module: ts.ModuleKind.CommonJS, ext: ".cjs" },
} as const;

export type ChildScript = keyof typeof SCRIPTS;

/**
 * Transpile (no type check: `npm run typecheck` covers bench/) into bench/.work/bin, next to a package.json
 * that marks .js as ESM; bare imports resolve from the repository's node_modules.
 */
export function compileChildScripts(): Record<ChildScript, string> {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, "package.json"), '{ "type": "module" }\n');
  const paths = {} as Record<ChildScript, string>;
  for (const [name, script] of Object.entries(SCRIPTS) as [ChildScript, (typeof SCRIPTS)[ChildScript]][]) {
    const { outputText } = ts.transpileModule(readFileSync(join(BENCH, script.source), "utf8"), {
      compilerOptions: { module: script.module, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const target = join(OUT, basename(script.source, ".ts") + script.ext);
    writeFileSync(target, outputText);
    paths[name] = target;
  }
  return paths;
}
