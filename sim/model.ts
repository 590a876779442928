/**
 * The fleet of a simulated site as plain data: ids, names, identities and media profiles.
 * Building it does no I/O; the servers in device.ts bring it to the network.
 */
import { deviceLook, type DeviceIdentity, type DeviceKind } from './identity.js';
import { mediaProfiles, type MediaProfile } from './profiles.js';

export interface DeviceModel {
  id: string;
  kind: DeviceKind;
  name: string;
  identity: DeviceIdentity;
  channels: number;
  profiles: MediaProfile[];
}

export interface FleetPlan {
  siteId: string;
  seed: string;
  cameras: number;
  nvrs: number;
  nvrChannels: number;
}

/** cam-01, cam-02, ..., then nvr-01, ...; two digits at least, more for large fleets. */
export function deviceId(kind: DeviceKind, index: number): string {
  return `${kind === 'camera' ? 'cam' : 'nvr'}-${String(index).padStart(2, '0')}`;
}

export function buildFleet(plan: FleetPlan): DeviceModel[] {
  const fleet: DeviceModel[] = [];
  const add = (kind: DeviceKind, index: number, channels: number) => {
    const id = deviceId(kind, index);
    const look = deviceLook({ siteId: plan.siteId, seed: plan.seed, id, kind, index, channels });
    fleet.push({
      id,
      kind,
      name: look.name,
      identity: look.identity,
      channels,
      profiles: mediaProfiles(kind, channels, look.mainResolution),
    });
  };
  for (let i = 1; i <= plan.cameras; i++) add('camera', i, 1);
  for (let i = 1; i <= plan.nvrs; i++) add('nvr', i, plan.nvrChannels);
  return fleet;
}
