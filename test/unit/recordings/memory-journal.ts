import type { PartialJournal, PartialRecord } from "../../../src/recordings/partials.js";

/** In-memory partial journal for transfer tests. */
export class MemoryPartialJournal implements PartialJournal {
  readonly records = new Map<string, PartialRecord>();

  async get(recordingId: string) {
    return this.records.get(recordingId);
  }

  async put(recordingId: string, record: PartialRecord) {
    this.records.set(recordingId, record);
  }

  async remove(recordingId: string) {
    this.records.delete(recordingId);
  }
}
