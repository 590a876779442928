/**
 * Rule: flapping is a state. A device that fails `flapFailures` times within
 * `flapWindowMin` minutes gets one serious "frequent failures" ticket (the contract's
 * "frequent problem"), not a ticket per failure; it resolves itself once the device has
 * stayed up for a whole window.
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

  count(key: string, at: number): number {
    return (this.failures.get(key) ?? []).filter((t) => at - t < this.windowMs).length;
  }

  last(key: string): number | undefined {
    return this.failures.get(key)?.at(-1);
  }
}

export function flappingText(count: number, windowMin: number): string {
  return `Frequent failures: failed ${count} times within ${windowMin} min`;
}
