/**
 * The device registry kept in memory, the fast path every message and every rule reads,
 * written to its store (./store.ts over broker/sql/: vigil.db, or PostgreSQL on a pair) as
 * follows:
 *   - a state message (put with `at`), a new device: written through at once, with its
 *     outage spans and status history, before anything depends on it: track-state waits for `stored()`
 *     before the live stream, detection and the ticket desk hear of it, so a broker
 *     killed the next instant still shows the board as it was. The states of one turn of
 *     the event loop (many agents at once) share one transaction;
 *   - a reading (put without `at`: lastSeen and responseMs of a known device): written
 *     behind, every `flushMs` (default 1 s), the latest value per device in one go.
 * Why: every metrics message refreshes its device, and a SQLite read plus a write per
 * message was the largest share of the broker's CPU per message in bench:broker
 * (cpu-prof: 11 % of the main thread at 10,000 msg/s). A crash loses at most `flushMs`
 * of lastSeen; the readings themselves are in the journal and the metrics store.
 *
 * A write that fails (the disk full, PostgreSQL out of reach) is said and tried again,
 * waiting longer each time, the writes after it queued behind it in order; the states
 * wait in memory and their messages in the journal (track-state has not finished them).
 * `reload()` replaces the memory with what the store holds: at start, and on a pair when
 * this node takes over as leader (what it had queued is dropped: refused on a node that
 * lost the lead, and replayed by the leader from the journal).
 */
import type { Device } from '../../shared/api/devices.js';
import type { StatusHistory } from '../inspection/history.js';
import type { OutageHistory } from './outages.js';
import type { DeviceRegistry } from './registry.js';
import type { DeviceStore, StateWrite } from './store.js';

const key = (siteId: string, deviceId: string): string => `${siteId}\u0000${deviceId}`;
const MAX_RETRY_MS = 30_000;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteBehindOptions {
  /** How often readings are written; 1 s. */
  flushMs?: number;
  /** The first wait before a failed write is tried again (doubling up to 30 s); 1 s. */
  retryMs?: number;
  /** A write that failed and waits to be tried again. */
  onError?: (error: unknown, retryInMs: number) => void;
}

export class WriteBehindRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  /** The same devices by site, for list({ siteId }); `order`: their ids sorted, once. */
  private readonly bySite = new Map<string, { devices: Map<string, Device>; order?: string[] }>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly flushMs: number;
  /** States to write, in order, and who waits for them. */
  private states: StateWrite[] = [];
  private waiters: Waiter[] = [];
  /** Who waits for the states of the write under way (told with them, or queued again). */
  private writing: Waiter[] | null = null;
  /** Readings are due (the timer, or stop). */
  private readingsDue = false;
  /** The write loop while it runs, and the store's write under way. */
  private loop: Promise<void> | null = null;
  private underWay: Promise<void> | null = null;
  /** Bumped by reload(): a loop of an older generation writes nothing more. */
  private generation = 0;
  private stopping = false;
  /** Ends the pause of a write loop waiting to try again. */
  private wakeWriter: (() => void) | null = null;

  constructor(
    private readonly store: DeviceStore,
    private readonly options: WriteBehindOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 1000;
  }

  get outages(): OutageHistory {
    return this.store.outages;
  }

  get history(): StatusHistory {
    return this.store.history;
  }

  /** Loads every device of the store; then writes readings every `flushMs`. */
  async start(): Promise<void> {
    await this.reload();
    this.stopping = false;
    this.timer = setInterval(() => {
      if (this.dirty.size === 0) return;
      this.readingsDue = true;
      this.schedule();
    }, this.flushMs);
    this.timer.unref();
  }

  /**
   * Replaces the devices in memory with the store's: at start, and when this node takes
   * over as leader of a pair (the other node wrote meanwhile). What was queued and not
   * written is dropped, and whoever waited for it is told (track-state fails that message).
   */
  async reload(): Promise<void> {
    this.generation++;
    this.wakeWriter?.();
    const dropped = [...this.waiters, ...(this.writing ?? [])];
    this.waiters = [];
    this.writing = null;
    this.states = [];
    this.dirty.clear();
    this.readingsDue = false;
    const reason = new Error(
      'the device registry was reloaded from its store (this node took over as leader); the state was not written here',
    );
    for (const waiter of dropped) waiter.reject(reason);
    await this.underWay?.catch(() => {});
    const devices = await this.store.list();
    this.devices.clear();
    this.bySite.clear();
    for (const device of devices) this.remember(device);
  }

  /** Writes what is pending (one attempt if the store fails). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    this.readingsDue = this.dirty.size > 0;
    this.schedule();
    this.wakeWriter?.();
    await this.loop;
  }

  get(siteId: string, deviceId: string): Device | undefined {
    return this.devices.get(key(siteId, deviceId));
  }

  /**
   * From memory, in the store's order (site, then device id). The detection rules ask for
   * a site's devices on every change of one of them (mass-outage counts its cameras): read
   * from SQLite and parsed each time, 500 devices appearing at once held the event loop
   * 640 ms (bench:report profile).
   */
  list(filter?: { siteId?: string }): Device[] {
    const sites =
      filter?.siteId === undefined
        ? [...this.bySite.keys()].sort(byCodePoints)
        : this.bySite.has(filter.siteId)
          ? [filter.siteId]
          : [];
    return sites.flatMap((siteId) => {
      const site = this.bySite.get(siteId)!;
      site.order ??= [...site.devices.keys()].sort(byCodePoints);
      return site.order.map((id) => site.devices.get(id)!);
    });
  }

  put(device: Device, at?: string): Device | undefined {
    const id = key(device.siteId, device.id);
    const previous = this.devices.get(id);
    this.remember(device);
    if (at === undefined && previous !== undefined) {
      this.dirty.add(id);
      return previous;
    }
    this.dirty.delete(id);
    this.states.push({ previous, device, ...(at !== undefined ? { at } : {}) });
    this.schedule();
    return previous;
  }

  /** Resolves once every state put so far is in the store; undefined when none waits. */
  stored(): Promise<void> | undefined {
    const queue = this.states.length > 0 || this.waiters.length > 0 ? this.waiters : this.writing;
    if (queue === null) return undefined;
    return new Promise((resolve, reject) => queue.push({ resolve, reject }));
  }

  private remember(device: Device): void {
    this.devices.set(key(device.siteId, device.id), device);
    let site = this.bySite.get(device.siteId);
    if (!site) this.bySite.set(device.siteId, (site = { devices: new Map() }));
    if (!site.devices.has(device.id)) delete site.order;
    site.devices.set(device.id, device);
  }

  private schedule(): void {
    this.loop ??= this.writeLoop(this.generation).finally(() => (this.loop = null));
  }

  private async writeLoop(generation: number): Promise<void> {
    let failures = 0;
    while (generation === this.generation && (this.states.length > 0 || this.readingsDue)) {
      // The rest of this turn's states (other agents' messages) go in the same transaction.
      await new Promise((resolve) => setImmediate(resolve));
      if (generation !== this.generation) return;
      const states = this.states;
      const waiters = this.waiters;
      this.states = [];
      this.waiters = [];
      const readings: Device[] = [];
      if (this.readingsDue) {
        for (const id of this.dirty) {
          const device = this.devices.get(id);
          if (device) readings.push(device);
        }
        this.dirty.clear();
        this.readingsDue = false;
      }
      if (states.length > 0) this.writing = waiters;
      try {
        this.underWay = this.store.write({ states, readings });
        await this.underWay;
      } catch (error) {
        if (generation !== this.generation) {
          for (const waiter of waiters) waiter.reject(error);
          return;
        }
        const retryInMs = Math.min(MAX_RETRY_MS, (this.options.retryMs ?? 1000) * 2 ** failures++);
        if (this.stopping) {
          // Stopping: no more waits. The states' messages stay unfinished in the journal.
          this.options.onError?.(error, -1);
          for (const waiter of waiters) waiter.reject(error);
          return;
        }
        // Tried again first, in the order they came; the readings' devices with them.
        this.states = [...states, ...this.states];
        this.waiters = [...waiters, ...this.waiters];
        for (const device of readings) this.dirty.add(key(device.siteId, device.id));
        if (readings.length > 0) this.readingsDue = true;
        this.options.onError?.(error, retryInMs);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryInMs);
          timer.unref();
          // stop() and reload() do not wait out the pause.
          this.wakeWriter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeWriter = null;
        continue;
      } finally {
        this.underWay = null;
        this.writing = null;
      }
      failures = 0;
      for (const waiter of waiters) waiter.resolve();
    }
  }
}

/**
 * SQLite's ORDER BY on TEXT (BINARY collation) compares UTF-8 bytes, which is code point
 * order; JavaScript's default sort compares UTF-16 units, which differs above U+FFFF.
 */
function byCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
