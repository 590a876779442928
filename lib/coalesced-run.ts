/**
 * One pass at a time, and no request lost: `run()` starts a pass now, or, while one is
 * under way, asks for one more after it and shares the promise of the one under way. The
 * notification outbox (broker/notify/outbox.ts) and escalation (broker/notify/escalation.ts)
 * are woken both by their timers and by events; a pass must not overlap another (they
 * claim and write the same rows), and an event that comes during a pass must still be
 * looked at, by a pass that starts after it.
 */
export class CoalescedRun {
  private running: Promise<void> | null = null;
  private again = false;

  /**
   * @param pass one pass; it handles its own failures (never rejects), and answers 'stop'
   *   to end the passes asked for meanwhile (a standby: nothing of this node's to do).
   * @param after called once the passes end, with whether one more was asked for after the
   *   last began (a request between the last pass and this call): run it, or plan the next.
   */
  constructor(
    private readonly pass: () => Promise<'stop' | void>,
    private readonly after: (askedAgain: boolean) => void,
  ) {}

  /** The passes under way, or null. */
  get current(): Promise<void> | null {
    return this.running;
  }

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if ((await this.pass()) === 'stop') {
          // What was asked for meanwhile is this node's work, which it does not do now.
          this.again = false;
          break;
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
      const askedAgain = this.again;
      this.again = false;
      this.after(askedAgain);
    });
    return this.running;
  }
}
