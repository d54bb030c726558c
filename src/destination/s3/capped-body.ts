import type { Readable } from "node:stream";
import type {
  ListObjectsV2Command,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import type { DeserializeMiddleware } from "@smithy/types";
import { StoreError } from "./errors.js";

/** Pages of one listing: 100 million keys, far past any archive, yet a bound on a store that never ends. */
export const MAX_LIST_PAGES = 100_000;

/**
 * A listing answer of 1,000 keys is at most ~1.5 MB (keys up to 1,024 bytes and their XML); the SDK reads an
 * answer whole before it parses it, so a body that never ends must be refused before it fills memory.
 */
export const MAX_LIST_PAGE_BYTES = 8 * 1024 * 1024;

/**
 * Read the raw answer of `command` (before the SDK parses it) into memory, refusing one over `maxBytes` with a
 * StoreError (never retried: the store answers the same way) that says `why()`.
 */
export function capBody(command: ListObjectsV2Command, maxBytes: number, why: () => string): void {
  // Placed after the deserializer, so it sees the raw answer on its way back, before the deserializer reads it.
  const capped: DeserializeMiddleware<ListObjectsV2CommandInput, ListObjectsV2CommandOutput> =
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body?: unknown };
      const body = response.body as Readable | undefined;
      if (body && typeof body[Symbol.asyncIterator] === "function") {
        response.body = await readCapped(body, maxBytes, why);
      }
      return result;
    };
  command.middlewareStack.addRelativeTo(capped, {
    relation: "after",
    toMiddleware: "deserializerMiddleware",
    name: "rcRecordingsCappedBody",
  });
}

async function readCapped(body: Readable, maxBytes: number, why: () => string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    length += bytes.length;
    if (length > maxBytes) {
      body.destroy();
      throw new StoreError(why(), false);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, length);
}
