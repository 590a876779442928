/**
 * lib/coalesced-run.ts: the outbox's and escalation's passes, one at a time, and a request
 * during a pass served by one pass after it.
 */
import { describe, expect, it } from 'vitest';
import { CoalescedRun } from '../../../lib/coalesced-run.js';

/** A pass the test ends by hand. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('CoalescedRun', () => {
  it('runs one pass at a time; requests during a pass make one more pass after it', async () => {
    const gates = [gate(), gate()];
    let passes = 0;
    let overlapping = 0;
    let inPass = false;
    const after: boolean[] = [];
    const run = new CoalescedRun(
      async () => {
        if (inPass) overlapping++;
        inPass = true;
        await gates[passes++]!.opened;
        inPass = false;
      },
      (askedAgain) => after.push(askedAgain),
    );
    const first = run.run();
    // Three requests while the first pass waits: they share its promise.
    expect(run.run()).toBe(first);
    expect(run.run()).toBe(first);
    expect(run.current).toBe(first);
    gates[0]!.open();
    await Promise.resolve();
    gates[1]!.open();
    await first;
    expect(passes).toBe(2);
    expect(overlapping).toBe(0);
    expect(after).toEqual([false]);
    expect(run.current).toBeNull();
  });

  it("ends the passes asked for meanwhile when a pass answers 'stop' (a standby)", async () => {
    const g = gate();
    let passes = 0;
    const after: boolean[] = [];
    const run = new CoalescedRun(
      async () => {
        passes++;
        await g.opened;
        return 'stop';
      },
      (askedAgain) => after.push(askedAgain),
    );
    const first = run.run();
    void run.run();
    g.open();
    await first;
    expect(passes).toBe(1);
    // The request was for this pass's work, which a standby does not do: not asked again.
    expect(after).toEqual([false]);
  });
});
