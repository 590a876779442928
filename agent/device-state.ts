/**
 * The state of one device: unknown until its first conclusive poll, then up, degraded or
 * down. One failed poll is not enough for "down": a lost packet or a busy device would
 * open a ticket at emergency priority. After a first failure the scheduler re-checks soon
 * (recheckS); a second failure in a row confirms "down". Any change is reported at once.
 */
import type { Reason } from '../shared/messages/device-state.js';
import type { Identity } from './checks/types.js';
import type { PollResult } from './poll.js';

export type DeviceStatus = 'up' | 'degraded' | 'down' | 'unknown';

export interface DeviceSnapshot {
  status: DeviceStatus;
  /** When the device entered this status. */
  since: Date;
  reasons: Reason[];
  identity?: Identity;
}

export interface Recorded {
  /** The new snapshot when something a receiver cares about changed, else null. */
  change: DeviceSnapshot | null;
  /** Poll again after the short recheck delay instead of the full interval. */
  recheck: boolean;
}

export interface DeviceStateOptions {
  /** Failed polls in a row before the device is down. */
  confirmations?: number;
  now?: () => Date;
}

function sameReasons(a: Reason[], b: Reason[]): boolean {
  // Messages vary between polls (ports, timings); only the codes make a new state.
  return (
    a.length === b.length &&
    a.every((reason, i) => reason.code === b[i]?.code && reason.channel === b[i]?.channel)
  );
}

function sameIdentity(a: Identity | undefined, b: Identity | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (Object.keys(a) as (keyof Identity)[]).every((key) => a[key] === b[key]);
}

export class DeviceState {
  readonly #confirmations: number;
  readonly #now: () => Date;
  #status: DeviceStatus = 'unknown';
  #since: Date;
  #reasons: Reason[] = [];
  #identity: Identity | undefined;
  #failuresInARow = 0;

  constructor(options: DeviceStateOptions = {}) {
    this.#confirmations = options.confirmations ?? 2;
    this.#now = options.now ?? (() => new Date());
    this.#since = this.#now();
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  snapshot(): DeviceSnapshot {
    const snapshot: DeviceSnapshot = {
      status: this.#status,
      since: this.#since,
      reasons: [...this.#reasons],
    };
    if (this.#identity) snapshot.identity = this.#identity;
    return snapshot;
  }

  record(result: PollResult): Recorded {
    const identityChanged =
      result.identity !== undefined && !sameIdentity(result.identity, this.#identity);
    if (result.identity) this.#identity = result.identity;

    if (result.ok) {
      this.#failuresInARow = 0;
      const status = result.degraded.length > 0 ? 'degraded' : 'up';
      return { change: this.#become(status, result.degraded, identityChanged), recheck: false };
    }

    this.#failuresInARow += 1;
    if (this.#failuresInARow < this.#confirmations) {
      // Not confirmed yet: keep the current status, look again soon.
      return { change: identityChanged ? this.snapshot() : null, recheck: true };
    }
    return { change: this.#become('down', [result.failure], identityChanged), recheck: false };
  }

  #become(
    status: DeviceStatus,
    reasons: Reason[],
    identityChanged: boolean,
  ): DeviceSnapshot | null {
    const statusChanged = status !== this.#status;
    const reasonsChanged = !sameReasons(reasons, this.#reasons);
    if (statusChanged) this.#since = this.#now();
    this.#status = status;
    this.#reasons = [...reasons];
    return statusChanged || reasonsChanged || identityChanged ? this.snapshot() : null;
  }
}
