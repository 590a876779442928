import type { Device } from '../../shared/api/devices.js';
import type { StatusHistory } from '../inspection/history.js';
import type { OutageHistory } from './outages.js';

/**
 * The latest known state of every device, kept by the pipeline's track-state stage and
 * read by the API and the detection rules: in memory (broker/devices/write-behind.ts),
 * written to its store (broker/devices/store.ts) so the board is complete again right
 * after a broker restart, or on the node that takes over.
 */
export interface DeviceRegistry {
  get(siteId: string, deviceId: string): Device | undefined;
  list(filter?: { siteId?: string }): Device[];
  /**
   * Inserts or replaces; returns the previous value. `at` (the agent's message time) is
   * given for a state message: the reasons that appeared or cleared are dated by it in
   * the outage history, and a status or inventory change in the status history.
   */
  put(device: Device, at?: string): Device | undefined;
  /**
   * Resolves once every state put so far is in the store (rejects when it could not be
   * written); undefined when nothing waits, or the registry keeps no store.
   */
  stored?(): Promise<void> | undefined;
  /** The history of the devices' reasons (broker/devices/outages.ts), when kept. */
  readonly outages?: OutageHistory;
  /**
   * The status and inventory changes of the inspection report, when kept: written with
   * each state, in its transaction (broker/devices/store.ts).
   */
  readonly history?: StatusHistory;
}
