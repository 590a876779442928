/**
 * When each device is polled. Every device has its own timer (interval with jitter, or
 * the short recheck delay after a first failure); due polls run through one global
 * concurrency limit; every poll has a deadline after which its slot is freed whatever the
 * poll does. So a hanging device costs one slot for at most one deadline and never delays
 * another device while slots are free. A device that stays down is polled at twice the
 * interval, then four times ..., up to `maxBackoffMs`; the first answer brings it back
 * to the normal interval.
 *
 * Between polls, an optional liveness probe (`probe`, agent/liveness.ts decides what it
 * means) asks every device one cheap question every `probe.intervalMs`, up and down
 * devices alike. One sweep timer spreads the probes evenly over that interval (500
 * devices every 3 s: about 17 every 100 ms, never all at once). A device whose poll is
 * running, waiting for a slot or due for its quick recheck is not probed: that poll
 * answers sooner. A probe still waiting when the device's poll starts is abandoned
 * (its signal aborted with PollStartedError): the probe's missed answer must not be the
 * first failure that poll confirms, since both would miss for one cause (a device slow
 * under our own poll, one request timing out) and "down" needs two independent failures
 * (device-state.ts). When the probe task asks for it, the device's full check runs at
 * once (as pollSoon), also for a down device in its backoff: the backoff spaces full
 * polls, the probe still sees the device come back.
 */

/**
 * What a poll asks for next: the normal interval, a quick recheck (first failure), a
 * recheck at once (a first failure that already waited out a deadline: the pause a
 * recheck leaves for a glitch to pass has passed), or a backoff (the device is down: look
 * again later and later, so down devices do not fill the slots that answering devices
 * need).
 */
export type PollNext = 'interval' | 'recheck' | 'recheck-now' | 'backoff';

/**
 * Probes one device between polls; resolves true when its full check must run now. It
 * must honour `signal` (aborted at `timeoutMs`, which is part of the question asked).
 */
export type ProbeTask = (deviceId: string, signal: AbortSignal) => Promise<boolean>;

export interface ProbeOptions {
  /** Every device is probed once per this interval, the probes spread evenly over it. */
  intervalMs: number;
  /** Deadline of one probe: the task's signal is aborted then. */
  timeoutMs: number;
  task: ProbeTask;
}

/**
 * Polls one device. It must honour `signal` (aborted at the deadline); the scheduler frees
 * the slot at the deadline anyway, and reports a poll that ignored it through onError.
 */
export type PollTask = (deviceId: string, signal: AbortSignal) => Promise<PollNext>;

export interface SchedulerOptions {
  intervalMs: number;
  recheckMs: number;
  /** Each delay varies by up to this share of itself, so polls do not march in step. */
  jitterPct: number;
  concurrency: number;
  pollTimeoutMs: number;
  /** Longest delay between two polls of a down device; default 4 intervals (1 min at 15 s). */
  maxBackoffMs?: number;
  /** A poll threw, or outlived its deadline: a bug in the agent, not a device failure. */
  onError?: (deviceId: string, error: unknown) => void;
  /** Injected for tests; Math.random by default. */
  random?: () => number;
  /** The liveness probe between polls; none when absent. */
  probe?: ProbeOptions;
}

export class PollDeadlineError extends Error {
  constructor(deviceId: string, ms: number) {
    super(`the poll of ${deviceId} did not end within its ${ms} ms deadline`);
    this.name = 'PollDeadlineError';
  }
}

/**
 * The abort reason of a probe whose device's poll started while it waited: the probe's
 * answer no longer counts (see the file's comment); a probe task must not take it as the
 * device failing.
 */
export class PollStartedError extends Error {
  constructor(deviceId: string) {
    super(`the poll of ${deviceId} started while its liveness probe waited`);
    this.name = 'PollStartedError';
  }
}

/** How long a poll may take to settle after its deadline aborted it. */
const ABORT_GRACE_MS = 500;

/** How often the probe sweep wakes up; the probes due since the last tick start then. */
const PROBE_TICK_MS = 100;

interface Entry {
  id: string;
  timer: NodeJS.Timeout | null;
  lastStart: number;
  /** Backoff polls in a row (0 while the device answers). */
  backoffs: number;
  queued: boolean;
  /** A poll of it runs now. */
  running: boolean;
  /** Its timer is the quick recheck after a first failure. */
  rechecking: boolean;
  /** The liveness probe of it running now, aborted when its poll starts; else null. */
  probe: AbortController | null;
}

function newEntry(id: string): Entry {
  return {
    id,
    timer: null,
    lastStart: 0,
    backoffs: 0,
    queued: false,
    running: false,
    rechecking: false,
    probe: null,
  };
}

export class Scheduler {
  readonly #entries: Entry[];
  readonly #task: PollTask;
  readonly #options: SchedulerOptions;
  readonly #random: () => number;
  readonly #queue: Entry[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #running = false;
  #sweepTimer: NodeJS.Timeout | null = null;
  /** Probes owed by the sweep (fractional: n devices per interval, a tick at a time). */
  #probeCredit = 0;
  #probeCursor = 0;
  readonly #probes = new Set<Promise<void>>();

  constructor(deviceIds: readonly string[], task: PollTask, options: SchedulerOptions) {
    this.#entries = deviceIds.map(newEntry);
    this.#task = task;
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  /** Polls running now. */
  get active(): number {
    return this.#inFlight.size;
  }

  /** Polls due but waiting for a free slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Starts polling. First polls are spread over the jitter window of one interval, so a
   * restart does not hit every device in the same millisecond.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const spread = (this.#options.intervalMs * this.#options.jitterPct) / 100;
    for (const entry of this.#entries) this.#arm(entry, this.#random() * spread);
    if (this.#options.probe) {
      this.#sweepTimer = setInterval(() => this.#sweep(), PROBE_TICK_MS);
    }
  }

  /** Cancels every timer and waiting poll, then waits for the polls in flight to end. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    for (const entry of this.#entries) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
    }
    this.#queue.length = 0;
    await Promise.allSettled([...this.#inFlight, ...this.#probes]);
  }

  #jittered(ms: number): number {
    const pct = this.#options.jitterPct / 100;
    return ms * (1 + (this.#random() * 2 - 1) * pct);
  }

  /**
   * Adds a device while running (adopted from discovery); its first poll comes within the
   * jitter window, as at start. False when it is already scheduled.
   */
  add(deviceId: string): boolean {
    if (this.#entries.some((e) => e.id === deviceId)) return false;
    const entry = newEntry(deviceId);
    this.#entries.push(entry);
    if (this.#running) {
      this.#arm(entry, (this.#random() * this.#options.intervalMs * this.#options.jitterPct) / 100);
    }
    return true;
  }

  /** Polls a device as soon as a slot is free (a NOC command); false for an unknown id. */
  pollSoon(deviceId: string): boolean {
    const entry = this.#entries.find((e) => e.id === deviceId);
    if (!entry || !this.#running) return false;
    this.#pollEntrySoon(entry);
    return true;
  }

  #pollEntrySoon(entry: Entry): void {
    if (entry.queued) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.rechecking = false;
    entry.queued = true;
    this.#queue.push(entry);
    this.#pump();
  }

  /** Starts the probes due since the last tick, in device order, round after round. */
  #sweep(): void {
    const probe = this.#options.probe;
    const count = this.#entries.length;
    if (!probe || !this.#running || count === 0) return;
    this.#probeCredit += (count * PROBE_TICK_MS) / probe.intervalMs;
    // A stalled event loop owes at most one round, not a burst of several.
    this.#probeCredit = Math.min(this.#probeCredit, count);
    while (this.#probeCredit >= 1) {
      this.#probeCredit -= 1;
      this.#probeCursor = (this.#probeCursor + 1) % count;
      const entry = this.#entries[this.#probeCursor];
      if (entry) this.#startProbe(entry, probe);
    }
  }

  #startProbe(entry: Entry, probe: ProbeOptions): void {
    // Its poll is running or about to run: that answers sooner than a probe would.
    if (entry.probe || entry.running || entry.queued || entry.rechecking) return;
    const controller = new AbortController();
    entry.probe = controller;
    const run = this.#probe(entry, probe, controller).finally(() => {
      entry.probe = null;
      this.#probes.delete(run);
    });
    this.#probes.add(run);
  }

  async #probe(entry: Entry, probe: ProbeOptions, controller: AbortController): Promise<void> {
    let grace: NodeJS.Timeout | undefined;
    let expire: () => void = () => undefined;
    const expired = new Promise<'expired'>((resolve) => (expire = () => resolve('expired')));
    const deadline = setTimeout(() => {
      controller.abort(new PollDeadlineError(entry.id, probe.timeoutMs));
      grace = setTimeout(expire, ABORT_GRACE_MS);
    }, probe.timeoutMs);
    try {
      const task = probe.task(entry.id, controller.signal);
      task.catch(() => undefined);
      const outcome = await Promise.race([task, expired]);
      if (outcome === 'expired') {
        this.#options.onError?.(entry.id, new PollDeadlineError(entry.id, probe.timeoutMs));
      } else if (outcome && this.#running && !entry.running) {
        this.#pollEntrySoon(entry);
      }
    } catch (error) {
      this.#options.onError?.(entry.id, error);
    } finally {
      clearTimeout(deadline);
      clearTimeout(grace);
    }
  }

  #arm(entry: Entry, delayMs: number, rechecking = false): void {
    entry.rechecking = rechecking;
    entry.timer = setTimeout(
      () => {
        entry.timer = null;
        entry.rechecking = false;
        entry.queued = true;
        this.#queue.push(entry);
        this.#pump();
      },
      Math.max(0, delayMs),
    );
  }

  #pump(): void {
    while (this.#running && this.#inFlight.size < this.#options.concurrency) {
      const entry = this.#queue.shift();
      if (!entry) return;
      entry.queued = false;
      const run = this.#run(entry).finally(() => {
        this.#inFlight.delete(run);
        this.#pump();
      });
      this.#inFlight.add(run);
    }
  }

  async #run(entry: Entry): Promise<void> {
    entry.lastStart = Date.now();
    entry.running = true;
    entry.probe?.abort(new PollStartedError(entry.id));
    const controller = new AbortController();
    const { pollTimeoutMs } = this.#options;
    let deadline: NodeJS.Timeout | undefined;
    let grace: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      deadline = setTimeout(() => {
        controller.abort(new PollDeadlineError(entry.id, pollTimeoutMs));
        // A task that honours the abort settles within moments; one that does not is stuck.
        grace = setTimeout(() => resolve('expired'), ABORT_GRACE_MS);
      }, pollTimeoutMs);
    });
    let next: PollNext = 'interval';
    try {
      const task = this.#task(entry.id, controller.signal);
      // A stuck task's result is ignored; so is its late failure.
      task.catch(() => undefined);
      const outcome = await Promise.race([task, expired]);
      if (outcome === 'expired') {
        this.#options.onError?.(entry.id, new PollDeadlineError(entry.id, pollTimeoutMs));
      } else {
        next = outcome;
      }
    } catch (error) {
      this.#options.onError?.(entry.id, error);
    } finally {
      clearTimeout(deadline);
      clearTimeout(grace);
      entry.running = false;
    }
    if (!this.#running) return;
    if (entry.timer || entry.queued) return; // pollSoon() already asked for the next one
    if (next === 'recheck' || next === 'recheck-now') {
      this.#arm(entry, next === 'recheck' ? this.#options.recheckMs : 0, true);
    } else if (next === 'backoff') {
      entry.backoffs += 1;
      const { intervalMs } = this.#options;
      const max = this.#options.maxBackoffMs ?? intervalMs * 4;
      const delay = Math.min(max, intervalMs * 2 ** entry.backoffs);
      this.#arm(entry, entry.lastStart + this.#jittered(delay) - Date.now());
    } else {
      entry.backoffs = 0;
      // Measured from the start of this poll, so slow answers do not stretch the interval.
      this.#arm(entry, entry.lastStart + this.#jittered(this.#options.intervalMs) - Date.now());
    }
  }
}
