/**
 * The channels part of issue 15: what the escalation engine and broker/app.ts import.
 */
export type {
  ChannelDriver,
  ChannelInfo,
  ChannelRegistry,
  ChannelType,
  DeliveryResult,
  OutgoingMessage,
  Recipient,
} from './types.js';
export { ChannelStore, type ChannelStoreOptions } from './store.js';
export { createDriver, PER_MINUTE, type ChannelSettings } from './drivers.js';
export { REQUEST_TIMEOUT_MS, mask, maskUrl } from './http.js';
