import type { Device } from '../../shared/api/devices.js';

/**
 * The latest known state of every device, kept by the pipeline's track-state stage and
 * read by the API. Implemented over SQLite in broker/devices/sqlite-registry.ts so the
 * board is complete again right after a broker restart.
 */
export interface DeviceRegistry {
  get(siteId: string, deviceId: string): Device | undefined;
  list(filter?: { siteId?: string }): Device[];
  /** Inserts or replaces; returns the previous value. */
  put(device: Device): Device | undefined;
}
