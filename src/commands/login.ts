import type { CommandContext } from "../context.js";
import { OperationError } from "../errors.js";

/** Placeholder: not implemented yet (see the open issues). Exits 1 and says so. */
export async function runLogin(_ctx: CommandContext, _options: Record<string, unknown>): Promise<void> {
  throw new OperationError("'login' is not implemented yet");
}
