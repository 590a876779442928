/**
 * The device's storage: tds:GetStorageConfigurations (the configuration only: ONVIF has
 * no capacity or health field, so failures and a full disk arrive as events, see
 * events.ts). The operation is optional in ONVIF Core: a device without it, or one that
 * fails it, is not degraded for that (its state comes from the other checks).
 */
import { OnvifError } from '../onvif/types.js';
import type { Check } from './types.js';

export const storage: Check = {
  name: 'storage',
  appliesTo: ['nvr'],
  async run({ client, signal }) {
    try {
      const configs = await client.storage(signal);
      return { values: { storages: configs.length } };
    } catch (error) {
      if (error instanceof OnvifError) return {};
      throw error;
    }
  },
};
