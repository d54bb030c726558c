import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { PageBuffer, PageTooLargeError } from "../../../src/listing/page-buffer.js";

/** The page as a body arriving in `size`-byte chunks (splits multi-byte characters too). */
function body(text: string, size = 7): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

async function read(text: string, buffer = new PageBuffer()) {
  await buffer.fill(body(text));
  const { records, rest } = buffer.split();
  return { records: records?.map((span) => buffer.parse(span)), rest };
}

describe("PageBuffer", () => {
  it("yields each record of the top-level array and the rest of the page without them", async () => {
    const page = {
      uri: "x?records=[{]",
      records: [
        { id: "1", name: 'Zoë "Q" {brace} [bracket] \\', nested: { records: [{ id: "inner" }] } },
        { id: "2", legs: [{ a: 1 }, { b: [2, 3] }] },
      ],
      navigation: { nextPage: { uri: "https://p/call-log?page=2" } },
    };
    const { records, rest } = await read(JSON.stringify(page, null, 1));
    expect(records).toEqual(page.records);
    expect(rest).toEqual({ ...page, records: [] });
  });

  it("tells a page without a records array from one with an empty array", async () => {
    expect(await read('{"navigation":{}}')).toEqual({ records: undefined, rest: { navigation: {} } });
    expect((await read('{"records":null}')).records).toBeUndefined();
    expect(await read('{"records" : [ ],"paging":{"page":3}}')).toEqual({
      records: [],
      rest: { records: [], paging: { page: 3 } },
    });
  });

  it("is reused: a second, larger page replaces the first", async () => {
    const buffer = new PageBuffer();
    await read(JSON.stringify({ records: [{ id: "a" }] }), buffer);
    const big = {
      records: Array.from({ length: 3000 }, (_, i) => ({ id: String(i), pad: "x".repeat(500) })),
    };
    const { records } = await read(JSON.stringify(big), buffer);
    expect(records).toHaveLength(3000);
    expect(records?.[2999]).toEqual(big.records[2999]);
  });

  it("refuses a body larger than its cap without reading the rest", async () => {
    const buffer = new PageBuffer(1000);
    await expect(
      read(JSON.stringify({ records: [{ pad: "x".repeat(2000) }] }), buffer),
    ).rejects.toBeInstanceOf(PageTooLargeError);
    expect((await read(JSON.stringify({ records: [{ id: "small" }] }), buffer)).records).toEqual([
      { id: "small" },
    ]);
  });

  it("rejects text that is not JSON", async () => {
    await expect(read("<html>busy</html>")).rejects.toBeInstanceOf(SyntaxError);
    await expect(read('{"records":[{"id":"1}]}')).rejects.toBeInstanceOf(SyntaxError);
  });
});
