/**
 * `download --dry-run --json` prints `{"planned":[...], ...summary}` as ONE JSON document, written path by path
 * as the listing finds them: a 100 000-record dry run never holds its planned paths, nor a multi-megabyte summary
 * string, in memory.
 */
export class PlannedJsonWriter {
  private started = false;

  constructor(private readonly write: (text: string) => void) {}

  add(path: string): void {
    this.write(`${this.started ? "," : '{"planned":['}${JSON.stringify(path)}`);
    this.started = true;
  }

  /** Close the list and append the other fields of `rest` (its own `planned`, if any, is ignored). */
  end(rest: object): void {
    if (!this.started) this.write('{"planned":[');
    const { planned: _ignored, ...fields } = rest as { planned?: unknown };
    const tail = JSON.stringify(fields).slice(1); // `}` or `"listed":1,...}`
    this.write(`]${tail === "}" ? "" : ","}${tail}\n`);
  }
}
