/**
 * The fleet's rules for display: a site's roll-up state and counts, which devices a
 * filter keeps and in which order. Components show the result and decide nothing.
 *
 * Roll-up, most serious first: a site-wide maintenance window in force -> maintenance;
 * an open "site-unreachable" ticket or every device unknown -> unreachable; any device
 * down -> down; any device degraded or unknown -> degraded; else ok.
 */
import type { Device, DeviceStatus, MaintenanceWindow, Site, Ticket } from './types.js';

export type SiteState = 'ok' | 'degraded' | 'down' | 'unreachable' | 'maintenance';

export interface SiteSummary {
  id: string;
  name: string;
  state: SiteState;
  total: number;
  counts: Record<DeviceStatus, number>;
}

/** Status order for counts and for sorting by severity. */
export const statusOrder: readonly DeviceStatus[] = ['down', 'degraded', 'unknown', 'up'];

const collator = new Intl.Collator(undefined, { numeric: true });

function emptyCounts(): Record<DeviceStatus, number> {
  return { down: 0, degraded: 0, unknown: 0, up: 0 };
}

export function siteSummaries(
  devices: Iterable<Device>,
  sites: readonly Site[],
  tickets: Iterable<Ticket>,
  maintenance: readonly MaintenanceWindow[],
): SiteSummary[] {
  const bySite = new Map<string, SiteSummary>();
  const names = new Map(sites.map((site) => [site.id, site.name]));
  const summary = (id: string): SiteSummary => {
    let entry = bySite.get(id);
    if (entry === undefined) {
      entry = { id, name: names.get(id) ?? id, state: 'ok', total: 0, counts: emptyCounts() };
      bySite.set(id, entry);
    }
    return entry;
  };
  for (const site of sites) summary(site.id);
  for (const device of devices) {
    const entry = summary(device.siteId);
    entry.total += 1;
    entry.counts[device.status] += 1;
  }
  const unreachable = new Set<string>();
  for (const ticket of tickets) {
    if (ticket.fault === 'site-unreachable' && ticket.resolvedAt === null) {
      unreachable.add(ticket.siteId);
    }
  }
  const inMaintenance = new Set(
    maintenance.filter((w) => w.state === 'active' && w.deviceId === null).map((w) => w.siteId),
  );
  for (const entry of bySite.values()) {
    const c = entry.counts;
    if (inMaintenance.has(entry.id)) entry.state = 'maintenance';
    else if (unreachable.has(entry.id) || (entry.total > 0 && c.unknown === entry.total)) {
      entry.state = 'unreachable';
    } else if (c.down > 0) entry.state = 'down';
    else if (c.degraded > 0 || c.unknown > 0) entry.state = 'degraded';
    else entry.state = 'ok';
  }
  return [...bySite.values()].sort((a, b) => collator.compare(a.name, b.name));
}

export interface DeviceFilter {
  siteId: string | null;
  status: DeviceStatus | null;
  /** Words that must all appear in the name, id, model, serial or a reason. */
  search: string;
}

export const noFilter: DeviceFilter = { siteId: null, status: null, search: '' };

function haystack(device: Device): string {
  return [
    device.id,
    device.name,
    device.identity?.model ?? '',
    device.identity?.manufacturer ?? '',
    device.serialNumber ?? '',
    ...device.reasons.map((reason) => reason.message),
  ]
    .join(' ')
    .toLowerCase();
}

const byPlace = (a: Device, b: Device) =>
  collator.compare(a.siteId, b.siteId) || collator.compare(a.id, b.id);

/**
 * Every device in the fleet's order (site, then id), remembering the last order: a live
 * change that brings no new device (the usual case, a status change) costs one pass over
 * the map instead of a sort, which keeps 10,000 devices under a frame per update.
 */
export class FleetOrder {
  private keys: string[] = [];
  private from: ReadonlyMap<string, Device> | null = null;
  private list: Device[] = [];

  of(devices: ReadonlyMap<string, Device>): Device[] {
    if (devices === this.from) return this.list;
    let same = devices.size === this.keys.length;
    const list: Device[] = [];
    if (same) {
      for (const key of this.keys) {
        const device = devices.get(key);
        if (device === undefined) {
          same = false;
          break;
        }
        list.push(device);
      }
    }
    if (!same) {
      const sorted = [...devices.entries()].sort(([, a], [, b]) => byPlace(a, b));
      this.keys = sorted.map(([key]) => key);
      list.length = 0;
      for (const [, device] of sorted) list.push(device);
    }
    this.from = devices;
    this.list = list;
    return list;
  }
}

/**
 * The devices a filter keeps, in a stable order (site, then id): a status change
 * recolours a row and never moves it, so the list does not jump under the reader.
 * `ordered`: the input is already in that order (FleetOrder), so no sort is needed.
 */
export function filterDevices(
  devices: Iterable<Device>,
  filter: DeviceFilter,
  ordered = false,
): Device[] {
  const words = filter.search.toLowerCase().split(/\s+/).filter(Boolean);
  const kept: Device[] = [];
  for (const device of devices) {
    if (filter.siteId !== null && device.siteId !== filter.siteId) continue;
    if (filter.status !== null && device.status !== filter.status) continue;
    if (words.length > 0) {
      const text = haystack(device);
      if (!words.every((word) => text.includes(word))) continue;
    }
    kept.push(device);
  }
  return ordered ? kept : kept.sort(byPlace);
}

export function countByStatus(devices: Iterable<Device>): Record<DeviceStatus, number> {
  const counts = emptyCounts();
  for (const device of devices) counts[device.status] += 1;
  return counts;
}
