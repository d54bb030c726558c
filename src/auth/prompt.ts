import { createInterface } from "node:readline/promises";
import type { CommandContext } from "../context.js";
import type { Prompter } from "./credentials.js";

/**
 * A prompter on the terminal, or undefined when no person is there: both stdin and stderr must be TTYs (stdout
 * may be piped into a JSON consumer, so prompts go to stderr). Secrets are read without echo.
 */
export function terminalPrompter(ctx: CommandContext): Prompter | undefined {
  if (!ctx.stdinIsTTY || !ctx.stderrIsTTY) return undefined;
  return {
    async text(message) {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      try {
        return await rl.question(message, { signal: ctx.signal });
      } finally {
        rl.close();
      }
    },
    async secret(message) {
      const { default: password } = await import("@inquirer/password");
      return password(
        { message, mask: false },
        { input: process.stdin, output: process.stderr, signal: ctx.signal },
      );
    },
  };
}

/** All of stdin as text (for `--jwt-file -`). */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}
