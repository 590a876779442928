/**
 * The liveness probe between full polls: what one probe of a device means. The scheduler
 * (scheduler.ts) runs it every `polling.probeS` per device, spread over that interval,
 * with the deadline `polling.probeTimeoutMs`; this file only decides.
 *
 * The question is tds:GetSystemDateAndTime without credentials (ONVIF Core 5.12.1: a
 * device answers it before authentication), the same request the `reachable` check
 * opens every poll with, through the device's own client (onvif/adapter.ts clock()), so a
 * probe costs one small HTTP exchange and no credentials. A TCP connect alone would pass a
 * device whose firmware hung: it accepts and never answers. The probe sees:
 * - a refused or reset connection, no route: fails at once;
 * - a hung device or a link that went silent: fails at its deadline;
 * - any answer that is not a GetSystemDateAndTimeResponse: fails (a web server that
 *   answers HTTP 500 is not an ONVIF device that works), except the two the `reachable`
 *   check also counts as answered (`answered` in checks/types.ts): a refusal of
 *   credentials (a device that wants them even here, against Core 5.12.1) and an HTTPS
 *   certificate the agent refuses.
 *
 * The probe never reports a state. When its answer disagrees with the device's status (an
 * up or degraded device fails it; a down device answers it), it asks the scheduler for the
 * device's full check at once, and that check decides as every poll does
 * (device-state.ts). A failed probe counts as the first failure of the confirmation
 * (`DeviceState.suspect`), so the check confirms "down" by itself: a refused device is
 * down within a probe interval, a hung one within a probe interval plus the probe's
 * deadline plus one request deadline. A check that finds the device well reports nothing.
 * A device is not probed while its poll runs, and a probe still waiting when the poll
 * starts counts for nothing (scheduler.ts): a device slow under our own poll would
 * otherwise miss the probe and time out in the poll for one cause, and be down at once.
 *
 * A refused connection (or a reset, no route) always asks: it is definite, and a device
 * that refuses is quickly checked. Any other disagreement that the check did not confirm
 * asks again only every `REASK_AFTER` probes (or sooner, after the device's next
 * scheduled poll or once the probe agrees): a device that keeps disagreeing with its
 * status (a camera slower than the probe's deadline, a recorder down for a reason the
 * probe does not see) costs one extra poll per 3 probes, not one per probe, and a camera
 * that then hangs is still seen within 3 probes. bench:detect on a loaded machine showed
 * why not "once until the next poll": a simulator answering late now and then put devices
 * in that state, and a hang was then seen only by the 15 s poll.
 */
import type { DeviceStatus } from './device-state.js';
import { answered } from './checks/types.js';
import { OnvifError } from './onvif/types.js';
import { PollStartedError } from './scheduler.js';

/** What a probe found: the device answered the question, or it did not. */
export type ProbeVerdict = 'answers' | 'fails';

export interface LivenessOptions {
  /** Asks the device the question; rejects with an OnvifError when it does not answer. */
  ask(deviceId: string, signal: AbortSignal): Promise<unknown>;
  /** The device's status now; undefined for a device no longer polled. */
  status(deviceId: string): DeviceStatus | undefined;
  /**
   * The probe failed on a device that is not down: the first failure of a confirmation,
   * unanswered since `askedAt` (when the probe's question was sent: the down span starts there).
   */
  suspect(deviceId: string, askedAt: Date): void;
}

/** Counts since start, for tests and the agent's figures. */
export interface LivenessStats {
  probes: number;
  /** Full checks asked because an up or degraded device failed the probe. */
  checksOnFailure: number;
  /** Full checks asked because a down device answered the probe. */
  checksOnAnswer: number;
}

/** A disagreement not confirmed by its check asks again after this many probes. */
export const REASK_AFTER = 3;

interface Memory {
  /** The verdict a check was already asked for, while it still disagrees. */
  checkedOn: ProbeVerdict | null;
  /** Probes still to let pass before asking again for the same verdict. */
  quiet: number;
  /** A check was asked and has not run yet. */
  asked: boolean;
}

export class Liveness {
  readonly #options: LivenessOptions;
  readonly #memory = new Map<string, Memory>();
  readonly #stats: LivenessStats = { probes: 0, checksOnFailure: 0, checksOnAnswer: 0 };

  constructor(options: LivenessOptions) {
    this.#options = options;
  }

  stats(): LivenessStats {
    return { ...this.#stats };
  }

  /** The scheduler's probe task: resolves true when the device's full check must run now. */
  async probe(deviceId: string, signal: AbortSignal): Promise<boolean> {
    const before = this.#options.status(deviceId);
    // Not polled yet, or its first polls still decide: nothing to compare with.
    if (before === undefined || before === 'unknown') return false;
    this.#stats.probes += 1;
    let verdict: ProbeVerdict = 'answers';
    let refused = false;
    const askedAt = new Date();
    try {
      await this.#options.ask(deviceId, signal);
    } catch (error) {
      // The device's poll started while the probe waited (scheduler.ts): that poll decides,
      // and a miss under its load is no second, independent failure.
      if (signal.reason instanceof PollStartedError) return false;
      // Anything else is a bug in the agent: the scheduler counts it as a check error.
      if (!(error instanceof OnvifError)) throw error;
      // The same "answered" as the reachable check's (checks/types.ts): a refusal of
      // credentials or an HTTPS certificate we refuse is the device being there.
      verdict = answered(error) ? 'answers' : 'fails';
      refused = verdict === 'fails' && error.kind === 'unreachable';
    }
    // A poll may have ended while the probe waited: compare with the status now.
    const status = this.#options.status(deviceId);
    if (status === undefined || status === 'unknown') return false;
    const memory = this.#memoryOf(deviceId);
    const expected: ProbeVerdict = status === 'down' ? 'fails' : 'answers';
    if (verdict === expected) {
      memory.checkedOn = null;
      return false;
    }
    if (memory.checkedOn === verdict && memory.quiet > 0 && !refused) {
      memory.quiet -= 1;
      return false;
    }
    memory.checkedOn = verdict;
    memory.quiet = REASK_AFTER - 1;
    memory.asked = true;
    if (verdict === 'fails') {
      this.#stats.checksOnFailure += 1;
      this.#options.suspect(deviceId, askedAt);
    } else {
      this.#stats.checksOnAnswer += 1;
    }
    return true;
  }

  /**
   * A full check of the device ended. The one the probe asked for keeps its disagreement
   * answered; any other poll lets the probe ask again.
   */
  polled(deviceId: string): void {
    const memory = this.#memory.get(deviceId);
    if (!memory) return;
    if (memory.asked) memory.asked = false;
    else memory.checkedOn = null;
  }

  /** Forgets devices no longer polled. */
  keep(deviceIds: Iterable<string>): void {
    const kept = new Set(deviceIds);
    for (const id of this.#memory.keys()) if (!kept.has(id)) this.#memory.delete(id);
  }

  #memoryOf(deviceId: string): Memory {
    let memory = this.#memory.get(deviceId);
    if (!memory) {
      memory = { checkedOn: null, quiet: 0, asked: false };
      this.#memory.set(deviceId, memory);
    }
    return memory;
  }
}
