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

/** One device of an explicit layout (a site file); ids still come from kind and position. */
export interface DeviceSpec {
  kind: DeviceKind;
  /** Video inputs; 1 for a camera. */
  channels: number;
  /** Overrides the generated name. */
  name?: string;
}

/** cam-01, cam-02, ..., then nvr-01, ...; two digits at least, more for large fleets. */
export function deviceId(kind: DeviceKind, index: number): string {
  return `${kind === 'camera' ? 'cam' : 'nvr'}-${String(index).padStart(2, '0')}`;
}

export function buildFleet(plan: FleetPlan): DeviceModel[] {
  const specs: DeviceSpec[] = [];
  for (let i = 1; i <= plan.cameras; i++) specs.push({ kind: 'camera', channels: 1 });
  for (let i = 1; i <= plan.nvrs; i++) specs.push({ kind: 'nvr', channels: plan.nvrChannels });
  return buildLayout(plan, specs);
}

/** Devices in the order given, numbered per kind (cam-01.., nvr-01..). */
export function buildLayout(
  plan: { siteId: string; seed: string },
  specs: DeviceSpec[],
): DeviceModel[] {
  const fleet: DeviceModel[] = [];
  const counts = { camera: 0, nvr: 0 };
  const add = (kind: DeviceKind, index: number, channels: number, name?: string) => {
    const id = deviceId(kind, index);
    const look = deviceLook({ siteId: plan.siteId, seed: plan.seed, id, kind, index, channels });
    fleet.push({
      id,
      kind,
      name: name ?? look.name,
      identity: look.identity,
      channels,
      profiles: mediaProfiles(kind, channels, look.mainResolution),
    });
  };
  for (const spec of specs) {
    counts[spec.kind] += 1;
    add(spec.kind, counts[spec.kind], spec.kind === 'camera' ? 1 : spec.channels, spec.name);
  }
  return fleet;
}
