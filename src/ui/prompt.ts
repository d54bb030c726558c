import { createInterface } from "node:readline/promises";
import type { Prompter } from "../auth/credentials.js";
import type { CommandContext } from "../context.js";
import { InterruptedError } from "../errors.js";

/** The terminal the prompts talk to; injectable so tests can type Ctrl-C into a fake one. */
export interface PromptIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  signal?: AbortSignal;
}

/**
 * A prompter on the terminal, or undefined when no person is there: both stdin and stderr must be TTYs (stdout
 * may be piped into a JSON consumer, so prompts go to stderr). Secrets are read without echo.
 */
export function terminalPrompter(
  ctx: Pick<CommandContext, "stdinIsTTY" | "stderrIsTTY" | "signal">,
): Prompter | undefined {
  if (!ctx.stdinIsTTY || !ctx.stderrIsTTY) return undefined;
  return streamPrompter({ input: process.stdin, output: process.stderr, signal: ctx.signal });
}

/**
 * Prompts on the given streams. Ctrl-C at a prompt (the terminal is in raw mode, so no SIGINT reaches the
 * process) and an aborted run both end as InterruptedError (exit 130), never as the library's own error.
 */
export function streamPrompter(io: PromptIo): Prompter {
  return {
    async text(message) {
      const rl = createInterface({ input: io.input, output: io.output, terminal: true });
      try {
        // Without a listener readline just closes on Ctrl-C and the question never settles.
        const cancelled = new Promise<never>((_, reject) => {
          rl.once("SIGINT", () => reject(new InterruptedError()));
        });
        return await Promise.race([rl.question(message, io.signal ? { signal: io.signal } : {}), cancelled]);
      } catch (error) {
        throw asInterruption(error);
      } finally {
        rl.close();
      }
    },
    async secret(message) {
      const { default: password } = await import("@inquirer/password");
      try {
        return await password({ message, mask: false }, io);
      } catch (error) {
        throw asInterruption(error);
      }
    },
  };
}

/** Cancellation errors of readline and @inquirer (matched by name: their classes are not part of our API). */
const CANCELLED = new Set(["AbortError", "AbortPromptError", "ExitPromptError", "CancelPromptError"]);

function asInterruption(error: unknown): unknown {
  return error instanceof Error && CANCELLED.has(error.name) ? new InterruptedError() : error;
}

/** All of stdin as text (for `--jwt-file -`). */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}
