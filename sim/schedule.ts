/**
 * Faults that come and go on their own, as a site file describes them: a fault set
 * `atS` seconds after the start, for `durationS` (or until reset), and again every
 * `everyS` seconds if given. Keeps a demo lively without anybody at the control API.
 */
import type { SimFault } from '../shared/api/sim.js';

export interface TimedFault {
  device: string;
  fault: SimFault;
  /** Seconds after the start. */
  atS: number;
  /** Repeats with this period, in seconds. */
  everyS?: number;
}

export interface FaultTarget {
  setFault(deviceId: string, fault: SimFault): Promise<unknown>;
}

export class FaultSchedule {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly entries: readonly TimedFault[],
    private readonly target: FaultTarget,
  ) {}

  start(): void {
    for (const entry of this.entries) {
      const fire = () => {
        this.target.setFault(entry.device, entry.fault).catch((error: unknown) => {
          console.error(`sim: timed fault ${entry.fault.kind} on ${entry.device} failed:`, error);
        });
      };
      const first = setTimeout(() => {
        this.timers.delete(first);
        fire();
        if (entry.everyS !== undefined) {
          const again = setInterval(fire, entry.everyS * 1000);
          again.unref();
          this.timers.add(again);
        }
      }, entry.atS * 1000);
      first.unref();
      this.timers.add(first);
    }
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
