/**
 * The fleet of a simulated site as plain data: ids, names, identities and media profiles.
 * Building it does no I/O; the servers in device.ts bring it to the network.
 */
import { createHash } from 'node:crypto';
import { deviceLook, type DeviceIdentity, type DeviceKind } from './identity.js';
import { quirksOf } from './personality.js';
import type { SceneKind } from './picture.js';
import { mediaProfiles, type MediaProfile } from './profiles.js';
import { vendorApi } from './vendor/index.js';
import type { DiskBay } from './vendor/storage.js';

export type { DiskBay };

/**
 * The disks of an NVR unless its spec says otherwise: two bays of 4 TB, as the two-bay
 * recorders of a small site (Hikvision DS-7616NI-K2, Dahua NVR4216). Cameras have none
 * here (an SD card is not modelled).
 */
export const DEFAULT_NVR_DISKS_GB: readonly number[] = [4000, 4000];

export interface DeviceModel {
  id: string;
  kind: DeviceKind;
  name: string;
  identity: DeviceIdentity;
  channels: number;
  profiles: MediaProfile[];
  /** Disk bays (an NVR's; none for a camera): what the vendor APIs report. */
  disks: DiskBay[];
  /** What its cameras look at (sim/picture.ts); `clock` when absent. */
  scene?: SceneKind;
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
  /**
   * The personality (sim/personality.ts); one that turns on a vendor API also makes the
   * device that vendor's in its identity (model, serial number, firmware).
   */
  personality?: string;
  /**
   * Disk bays, each the labelled size of its disk in GB, 0 for an empty bay (an NVR only;
   * default DEFAULT_NVR_DISKS_GB).
   */
  disks?: number[];
  /** `static`: a view where nothing moves and no clock is drawn (only sensor noise changes). */
  scene?: SceneKind;
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
  const add = (
    kind: DeviceKind,
    index: number,
    channels: number,
    name?: string,
    scene?: SceneKind,
    vendor: Pick<DeviceSpec, 'personality' | 'disks'> = {},
  ) => {
    const id = deviceId(kind, index);
    const look = deviceLook({ siteId: plan.siteId, seed: plan.seed, id, kind, index, channels });
    const sizes = kind === 'nvr' ? (vendor.disks ?? DEFAULT_NVR_DISKS_GB) : [];
    const disks = sizes.map((sizeGB, n) => ({ bay: n + 1, sizeGB }));
    fleet.push({
      id,
      kind,
      name: name ?? look.name,
      identity: vendorIdentity(plan, id, look.identity, { ...vendor, kind, channels, disks }),
      channels,
      profiles: mediaProfiles(kind, channels, look.mainResolution),
      disks,
      ...(scene ? { scene } : {}),
    });
  };
  for (const spec of specs) {
    counts[spec.kind] += 1;
    const channels = spec.kind === 'camera' ? 1 : spec.channels;
    add(spec.kind, counts[spec.kind], channels, spec.name, spec.scene, spec);
  }
  return fleet;
}

/**
 * Who a device of a vendor personality says it is (that vendor's manufacturer, model,
 * serial number and firmware, sim/vendor/), derived like the rest from site, seed and id;
 * any other device keeps the simulator's own identity.
 */
function vendorIdentity(
  plan: { siteId: string; seed: string },
  id: string,
  base: DeviceIdentity,
  device: { personality?: string; kind: DeviceKind; channels: number; disks: DiskBay[] },
): DeviceIdentity {
  const vendor = vendorApi(quirksOf(device.personality ?? 'standard').vendorApi);
  if (!vendor) return base;
  const hash = createHash('sha256')
    .update(`vendor\u0000${plan.siteId}\u0000${plan.seed}\u0000${id}`)
    .digest();
  const { kind, channels, disks } = device;
  return vendor.identity({ base, kind, channels, bays: disks.length, hash });
}
