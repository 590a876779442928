/**
 * The device registry kept in memory, written to its store (SQLite) as follows:
 *   - a state message (put with `at`), a new device: written through at once, so a
 *     broker killed the next instant still shows the board as it was;
 *   - a reading (put without `at`: lastSeen and responseMs of a known device): written
 *     behind, every `flushMs` (default 1 s), the latest value per device in one go.
 * Why: every metrics message refreshes its device, and a SQLite read plus a write per
 * message was the largest share of the broker's CPU per message in bench:broker
 * (cpu-prof: 11 % of the main thread at 10,000 msg/s). A crash loses at most `flushMs`
 * of lastSeen; the readings themselves are in the journal and the metrics store.
 */
import type { Device } from '../../shared/api/devices.js';
import type { OutageHistory } from './outages.js';
import type { DeviceRegistry } from './registry.js';

const key = (siteId: string, deviceId: string): string => `${siteId}\u0000${deviceId}`;

export class WriteBehindRegistry implements DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  /** The same devices by site, for list({ siteId }); `order`: their ids sorted, once. */
  private readonly bySite = new Map<string, { devices: Map<string, Device>; order?: string[] }>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: DeviceRegistry,
    private readonly flushMs = 1000,
  ) {}

  get outages(): OutageHistory | undefined {
    return this.store.outages;
  }

  /** Loads every device of the store; then flushes readings every `flushMs`. */
  start(): void {
    for (const device of this.store.list()) this.remember(device);
    this.timer = setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Writes what is pending. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
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
    this.store.put(device, ...(at === undefined ? [] : [at]));
    return previous;
  }

  private remember(device: Device): void {
    this.devices.set(key(device.siteId, device.id), device);
    let site = this.bySite.get(device.siteId);
    if (!site) this.bySite.set(device.siteId, (site = { devices: new Map() }));
    if (!site.devices.has(device.id)) delete site.order;
    site.devices.set(device.id, device);
  }

  private flush(): void {
    if (this.dirty.size === 0) return;
    const devices: Device[] = [];
    for (const id of this.dirty) {
      const device = this.devices.get(id);
      if (device) devices.push(device);
    }
    this.dirty.clear();
    // One transaction for all of them: a put() each would be one SQLite commit per device.
    if (this.store.putMany) this.store.putMany(devices);
    else for (const device of devices) this.store.put(device);
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
