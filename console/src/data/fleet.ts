/**
 * The fleet's display order and filters: which devices a filter keeps and in which order.
 * The site roll-up (state and counts per site) is the broker's figure (GET /api/rollup,
 * broker/sites/rollup.ts); the console shows it as it comes.
 */
import type { Device, DeviceStatus } from './types.js';

/** Status order for counts and for sorting by severity. */
export const statusOrder: readonly DeviceStatus[] = ['down', 'degraded', 'unknown', 'up'];

const collator = new Intl.Collator(undefined, { numeric: true });

function emptyCounts(): Record<DeviceStatus, number> {
  return { down: 0, degraded: 0, unknown: 0, up: 0 };
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
