/**
 * `download --dry-run --json` prints `{"planned":[...], ...summary}` as ONE JSON document, written path by path
 * as the listing finds them: a 100 000-record dry run never holds its planned paths, nor a multi-megabyte summary
 * string, in memory. Items are written in batches of about 16 KiB: one write per path costs a system call each.
 */
export class PlannedJsonWriter {
  private started = false;
  private pending = "";

  constructor(private readonly write: (text: string) => void) {}

  add(path: string): void {
    this.pending += `${this.started ? "," : '{"planned":['}${JSON.stringify(path)}`;
    this.started = true;
    if (this.pending.length >= 16_384) this.flush();
  }

  /** Close the list and append the other fields of `rest` (its own `planned`, if any, is ignored). */
  end(rest: object): void {
    if (!this.started) this.pending += '{"planned":[';
    const { planned: _ignored, ...fields } = rest as { planned?: unknown };
    const tail = JSON.stringify(fields).slice(1); // `}` or `"listed":1,...}`
    this.pending += `]${tail === "}" ? "" : ","}${tail}\n`;
    this.flush();
  }

  private flush(): void {
    this.write(this.pending);
    this.pending = "";
  }
}
