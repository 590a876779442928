/**
 * Each device's failure times within the flapping window (the rule is
 * ./rules/flapping.ts), kept across restarts by the state store.
 */
export class FailureLog {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  /** Records a failure at `at`; returns the failures within the window, this one included. */
  add(key: string, at: number): number {
    const recent = (this.failures.get(key) ?? []).filter((t) => at - t < this.windowMs);
    recent.push(at);
    this.failures.set(key, recent);
    return recent.length;
  }

  last(key: string): number | undefined {
    return this.failures.get(key)?.at(-1);
  }

  /** Forgets failures older than the window (a device quiet for a window has no entry). */
  prune(at: number): void {
    for (const [key, times] of this.failures) {
      const recent = times.filter((t) => at - t < this.windowMs);
      if (recent.length === 0) this.failures.delete(key);
      else if (recent.length !== times.length) this.failures.set(key, recent);
    }
  }

  /** The failure times per key, for the state store. */
  entries(): Map<string, number[]> {
    return new Map([...this.failures].map(([key, times]) => [key, [...times]]));
  }

  /** Replaces the log with what a store kept (start, or taking over as leader). */
  load(entries: ReadonlyMap<string, readonly number[]>): void {
    this.failures.clear();
    for (const [key, times] of entries) this.failures.set(key, [...times]);
  }
}
