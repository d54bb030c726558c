import { describe, expect, it } from "vitest";
import { PlannedJsonWriter } from "../../../src/ui/planned-json.js";

function written(run: (writer: PlannedJsonWriter) => void): string {
  let out = "";
  run(new PlannedJsonWriter((text) => (out += text)));
  return out;
}

describe("PlannedJsonWriter", () => {
  it("streams the planned paths and the summary as one JSON document", () => {
    const out = written((w) => {
      w.add('2026-11-25/a "quoted".mp3');
      w.add("2026-11-25/b.wav");
      w.end({ listed: 2, downloaded: 0, planned: ["ignored"], failures: [] });
    });
    expect(out.endsWith("}\n")).toBe(true);
    expect(JSON.parse(out)).toEqual({
      planned: ['2026-11-25/a "quoted".mp3', "2026-11-25/b.wav"],
      listed: 2,
      downloaded: 0,
      failures: [],
    });
  });

  it("is valid JSON with nothing planned, and with nothing else to say", () => {
    expect(JSON.parse(written((w) => w.end({ listed: 0 })))).toEqual({ planned: [], listed: 0 });
    expect(JSON.parse(written((w) => w.end({})))).toEqual({ planned: [] });
  });

  it("writes many paths in a few large pieces, not one write per path", () => {
    const writes: string[] = [];
    const writer = new PlannedJsonWriter((text) => writes.push(text));
    for (let i = 0; i < 2000; i++) writer.add(`2026-11-25/recording-${i}.mp3`);
    writer.end({ listed: 2000 });
    expect(writes.length).toBeLessThan(10);
    expect(JSON.parse(writes.join("")).planned).toHaveLength(2000);
  });
});
