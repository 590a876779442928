/**
 * The state of one device: unknown until its first conclusive poll, then up, degraded or
 * down. One failed poll is not enough for "down": a lost packet or a busy device would
 * open a ticket at emergency priority. After a first failure the scheduler re-checks soon
 * (recheckS); a second failure in a row confirms "down". Any change is reported at once.
 *
 * "Down since" is the first request of the confirmation that went unanswered (a liveness
 * probe's or a poll's start), not the moment the second failure confirmed it: the device
 * already failed to answer then, and the outage the customer's report shows
 * (broker/devices/outages.ts dates a status change by `since`) would otherwise be shorter
 * by the probe's deadline, the recheck delay and the confirming request's deadline.
 */
import type { Reason, RecordingRef } from '../shared/messages/device-state.js';
import type { Identity } from './checks/types.js';
import type { PollResult } from './poll.js';

export type DeviceStatus = 'up' | 'degraded' | 'down' | 'unknown';

export interface DeviceSnapshot {
  status: DeviceStatus;
  /** When the device entered this status. */
  since: Date;
  reasons: Reason[];
  identity?: Identity;
  /** An NVR's recordings as last listed; kept while the recorder does not answer. */
  recordings?: RecordingRef[];
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
  // Messages vary between polls (ports, timings); only the codes make a new state, and
  // the certificate a device presents (a third one must reach the operator who accepts).
  return (
    a.length === b.length &&
    a.every(
      (reason, i) =>
        reason.code === b[i]?.code &&
        reason.channel === b[i]?.channel &&
        reason.certificate?.presented === b[i]?.certificate?.presented,
    )
  );
}

function sameIdentity(a: Identity | undefined, b: Identity | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (Object.keys(a) as (keyof Identity)[]).every((key) => a[key] === b[key]);
}

function sameRecordings(a: RecordingRef[] | undefined, b: RecordingRef[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.length === b.length &&
    a.every((rec, i) => rec.token === b[i]?.token && rec.source === b[i]?.source)
  );
}

export class DeviceState {
  readonly #confirmations: number;
  readonly #now: () => Date;
  #status: DeviceStatus = 'unknown';
  #since: Date;
  #reasons: Reason[] = [];
  #identity: Identity | undefined;
  #recordings: RecordingRef[] | undefined;
  #failuresInARow = 0;
  /** When the first unanswered request of the current confirmation was sent; null: none. */
  #firstMiss: Date | null = null;

  constructor(options: DeviceStateOptions = {}) {
    this.#confirmations = options.confirmations ?? 2;
    this.#now = options.now ?? (() => new Date());
    this.#since = this.#now();
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  /** A failure (a missed probe, a failed poll) waits for its confirmation. */
  get suspected(): boolean {
    return this.#failuresInARow > 0;
  }

  snapshot(): DeviceSnapshot {
    const snapshot: DeviceSnapshot = {
      status: this.#status,
      since: this.#since,
      reasons: [...this.#reasons],
    };
    if (this.#identity) snapshot.identity = this.#identity;
    if (this.#recordings) snapshot.recordings = this.#recordings;
    return snapshot;
  }

  /**
   * A liveness probe between polls got no answer (agent/liveness.ts; never one that
   * overlapped the device's poll, scheduler.ts): it counts as the first failure of the
   * confirmation, so the full check it triggers confirms "down" at
   * once instead of after a recheck. Never more than that: the probe alone never changes
   * the status, and a full check that answers clears it.
   */
  suspect(askedAt: Date = this.#now()): void {
    if (this.#status === 'down' || this.#status === 'unknown') return;
    this.#failuresInARow = Math.max(this.#failuresInARow, Math.min(1, this.#confirmations - 1));
    this.#firstMiss ??= askedAt;
  }

  /**
   * The device cannot be seen at all: a camera behind an NVR whose NVR is down, or that
   * gives no state of its channel (agent/behind-nvr.ts). Unknown, with no reason (a reason
   * is a fault the broker opens a ticket for; not seeing a device is none), and a
   * confirmation under way starts again.
   */
  unseen(): DeviceSnapshot | null {
    this.#failuresInARow = 0;
    this.#firstMiss = null;
    return this.#become('unknown', [], false);
  }

  /**
   * A poll that ended inside the agent (a bug, no result): whatever it was to confirm
   * proves nothing, so a probe's earlier suspicion does not confirm the next failure, minutes
   * later, dated from then.
   */
  forgetSuspicion(): void {
    this.#failuresInARow = 0;
    this.#firstMiss = null;
  }

  /**
   * A poll's result. `startedAt`: when the poll sent its first request (a failed poll's
   * device was not answering from then on); absent, now.
   */
  record(result: PollResult, startedAt?: Date): Recorded {
    // Identity and recordings: a poll that did not learn them keeps the last ones.
    const inventoryChanged =
      (result.identity !== undefined && !sameIdentity(result.identity, this.#identity)) ||
      (result.recordings !== undefined && !sameRecordings(result.recordings, this.#recordings));
    if (result.identity) this.#identity = result.identity;
    if (result.recordings) this.#recordings = [...result.recordings];

    if (result.ok) {
      this.#failuresInARow = 0;
      this.#firstMiss = null;
      const status = result.degraded.length > 0 ? 'degraded' : 'up';
      return { change: this.#become(status, result.degraded, inventoryChanged), recheck: false };
    }

    this.#failuresInARow += 1;
    this.#firstMiss ??= startedAt ?? this.#now();
    if (this.#failuresInARow < this.#confirmations) {
      // Not confirmed yet: keep the current status, look again soon.
      return { change: inventoryChanged ? this.snapshot() : null, recheck: true };
    }
    const firstMiss = this.#firstMiss;
    this.#firstMiss = null;
    return {
      change: this.#become('down', [result.failure], inventoryChanged, firstMiss),
      recheck: false,
    };
  }

  #become(
    status: DeviceStatus,
    reasons: Reason[],
    inventoryChanged: boolean,
    since: Date | null = null,
  ): DeviceSnapshot | null {
    const statusChanged = status !== this.#status;
    const reasonsChanged = !sameReasons(reasons, this.#reasons);
    // Never before the status it ends began: a clock step back must not invert the spans.
    if (statusChanged) {
      const now = this.#now();
      const at = since !== null && since < now ? since : now;
      this.#since = at > this.#since ? at : now;
    }
    this.#status = status;
    this.#reasons = [...reasons];
    return statusChanged || reasonsChanged || inventoryChanged ? this.snapshot() : null;
  }
}
