import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { InterruptedError } from "../../../src/errors.js";
import { streamPrompter } from "../../../src/ui/prompt.js";

const CTRL_C = "\u0003";

/** A fake terminal: what the test types goes to `input`; the prompt text goes to a sink. */
function terminal(signal?: AbortSignal) {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  return { input, prompter: streamPrompter({ input, output, ...(signal ? { signal } : {}) }) };
}

describe("terminal prompts", () => {
  it("returns what was typed", async () => {
    const { input, prompter } = terminal();
    const answer = prompter.text("client id: ");
    setTimeout(() => input.write("abc\r"), 10);
    expect(await answer).toBe("abc");
  });

  it.each(["text", "secret"] as const)(
    "Ctrl-C at the %s prompt is an interruption (exit 130)",
    async (kind) => {
      const { input, prompter } = terminal();
      const answer = prompter[kind]("value: ");
      setTimeout(() => input.write(CTRL_C), 30);
      const error = await answer.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InterruptedError);
      expect((error as InterruptedError).exitCode).toBe(130);
    },
  );

  it.each(["text", "secret"] as const)("an aborted run at the %s prompt is an interruption", async (kind) => {
    const controller = new AbortController();
    const { prompter } = terminal(controller.signal);
    const answer = prompter[kind]("value: ");
    setTimeout(() => controller.abort(), 30);
    await expect(answer).rejects.toBeInstanceOf(InterruptedError);
  });
});
