import type { Device } from '../../shared/api/devices.js';
import type { OutageHistory } from './outages.js';

/**
 * The latest known state of every device, kept by the pipeline's track-state stage and
 * read by the API. Implemented over SQLite in broker/devices/sqlite-registry.ts so the
 * board is complete again right after a broker restart.
 */
export interface DeviceRegistry {
  get(siteId: string, deviceId: string): Device | undefined;
  list(filter?: { siteId?: string }): Device[];
  /**
   * Inserts or replaces; returns the previous value. `at` (the agent's message time) is
   * given for a state message: the reasons that appeared or cleared are dated by it in
   * the outage history.
   */
  put(device: Device, at?: string): Device | undefined;
  /** Many readings (no state change) in one write, where the store can; else put() each. */
  putMany?(devices: Iterable<Device>): void;
  /** The history of the devices' reasons (broker/devices/outages.ts), when kept. */
  readonly outages?: OutageHistory;
}
