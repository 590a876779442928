/** The vendor APIs a personality can turn on (sim/personality.ts `vendorApi`). */
import type { VendorApi } from './api.js';
import { dahuaCgi } from './dahua.js';
import { hikvisionIsapi } from './hikvision.js';

export type VendorApiName = VendorApi['name'];

const apis: Record<VendorApiName, VendorApi> = {
  isapi: hikvisionIsapi,
  'dahua-cgi': dahuaCgi,
};

export function vendorApi(name: VendorApiName | null): VendorApi | null {
  return name === null ? null : apis[name];
}
