/**
 * Writes that take turns. A store that answers from a copy in memory (sites, customers,
 * maintenance) reads the row it changes, writes it, then reads it back into the copy;
 * with awaits between those steps, two writes at once to one row would each start from
 * the same row and the later would undo the earlier. Each store's writes run one after
 * another instead, as they did when the engine was synchronous.
 */
export class Turns {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `work` after the work queued before it, whether that succeeded or failed. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
