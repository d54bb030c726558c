import { describe, expect, it } from "vitest";
import { LOG_EVENTS } from "../../../src/log/events.js";
import { readDoc, tableAfter } from "../../helpers/markdown.js";

/** The names written as code in a table cell: "`a`, `b`" → ["a", "b"]. */
const codeNames = (cell: string | undefined): string[] =>
  [...(cell ?? "").matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

interface Documented {
  required: string[];
  optional: string[];
}

/** The events table of docs/logs-and-events.md, by event; an event written without a name is keyed by its spec. */
function documentedEvents(): Map<string, Documented> {
  const [header, ...rows] = tableAfter(readDoc("docs/logs-and-events.md"), "events");
  expect(header).toEqual(["event", "level", "fields", "optional fields", "meaning"]);
  const unnamed = Object.entries(LOG_EVENTS).filter(([, spec]) => "unnamed" in spec);
  const documented = new Map<string, Documented>();
  for (const row of rows) {
    const [first] = codeNames(row[0]);
    // A row for an event without a name says "none (…)" and names what it is in words (e.g. "recovery").
    const name = first ?? unnamed.find(([key]) => row[0]?.startsWith("none") && row[0].includes(key))?.[0];
    expect(name, `a row of the events table names no event: ${row.join(" | ")}`).toBeDefined();
    documented.set(name as string, { required: codeNames(row[2]), optional: codeNames(row[3]) });
  }
  return documented;
}

function declaredEvents(): Map<string, Documented> {
  return new Map(
    Object.entries(LOG_EVENTS).map(([name, spec]) => {
      const fields = Object.entries(spec.fields as Record<string, string>);
      return [
        name,
        {
          required: fields.filter(([, kind]) => !kind.endsWith("?")).map(([field]) => field),
          optional: fields.filter(([, kind]) => kind.endsWith("?")).map(([field]) => field),
        },
      ];
    }),
  );
}

describe("the --log-format json events", () => {
  it("docs/logs-and-events.md lists exactly the declared events, each with exactly its fields", () => {
    const documented = documentedEvents();
    const declared = declaredEvents();
    expect([...documented.keys()].sort()).toEqual([...declared.keys()].sort());
    for (const [name, fields] of declared) {
      const doc = documented.get(name);
      expect(doc?.required.sort(), `required fields of ${name}`).toEqual([...fields.required].sort());
      expect(doc?.optional.sort(), `optional fields of ${name}`).toEqual([...fields.optional].sort());
    }
  });

  it("no event declares a field that every line already has", () => {
    for (const [name, spec] of Object.entries(LOG_EVENTS)) {
      for (const field of ["time", "level", "msg", "event"]) {
        expect(Object.keys(spec.fields), `${name}.${field}`).not.toContain(field);
      }
    }
  });
});
