/**
 * Who each simulated device says it is (ONVIF GetDeviceInformation), derived from the
 * site id, the seed and the device id alone, so a restarted simulator presents the same
 * fleet and only a changed seed looks like replaced hardware.
 */
import { createHash } from 'node:crypto';
import type { Static } from 'typebox';
import type { DeviceIdentity as DeviceIdentitySchema } from '../shared/messages/common.js';

export type DeviceIdentity = Static<typeof DeviceIdentitySchema>;
export type DeviceKind = 'camera' | 'nvr';

export interface IdentitySource {
  siteId: string;
  seed: string;
  id: string;
  kind: DeviceKind;
  /** 1-based position among devices of its kind. */
  index: number;
  channels: number;
}

export interface Resolution {
  width: number;
  height: number;
}

export interface DeviceLook {
  name: string;
  identity: DeviceIdentity;
  /** Resolution of the main stream of every channel. */
  mainResolution: Resolution;
}

export const MANUFACTURER = 'Vigil Sim';

const cameraModels = [
  { model: 'VS-IPC-2M', code: '2M', resolution: { width: 1920, height: 1080 } },
  { model: 'VS-IPC-4M', code: '4M', resolution: { width: 2560, height: 1440 } },
  { model: 'VS-IPC-8M', code: '8M', resolution: { width: 3840, height: 2160 } },
] as const;
const cameraFirmware = ['5.7.3 build 260101', '5.7.1 build 251020', '5.6.9 build 250612'] as const;
const nvrFirmware = ['4.2.0 build 251101', '4.1.8 build 250415'] as const;

/** Camera names of a plausible site, in order; cameras beyond the list are numbered. */
const cameraNames = [
  'Lobby entrance',
  'Reception desk',
  'Main gate',
  'Parking level -1 north',
  'Parking level -1 south',
  'Loading dock',
  'Warehouse aisle 1',
  'Warehouse aisle 2',
  'Emergency exit east',
  'Emergency exit west',
  'Staircase A',
  'Staircase B',
  'Lift lobby floor 1',
  'Lift lobby floor 2',
  'Corridor floor 1',
  'Corridor floor 2',
  'Server room',
  'Cash office',
  'Canteen',
  'Roof access',
  'Perimeter north',
  'Perimeter south',
  'Bicycle shelter',
  'Visitor car park',
] as const;

export function deviceLook(source: IdentitySource): DeviceLook {
  const hash = createHash('sha256')
    .update(`${source.siteId}\u0000${source.seed}\u0000${source.id}`)
    .digest();
  const pick = <T>(list: readonly T[], byte: number): T => list[hash[byte]! % list.length]!;
  const digits = (BigInt(`0x${hash.subarray(8, 16).toString('hex')}`) % 10n ** 10n)
    .toString()
    .padStart(10, '0');
  const revision = `${'ABCD'[hash[4]! % 4]}${(hash[5]! % 3) + 1}`;

  if (source.kind === 'camera') {
    const model = pick(cameraModels, 0);
    return {
      name: cameraNames[source.index - 1] ?? `Camera ${String(source.index).padStart(2, '0')}`,
      identity: {
        manufacturer: MANUFACTURER,
        model: model.model,
        firmwareVersion: pick(cameraFirmware, 1),
        serialNumber: `VS${model.code}${digits}`,
        hardwareId: `HW-${model.code}-${revision}`,
      },
      mainResolution: model.resolution,
    };
  }
  return {
    name: `Recorder ${String.fromCharCode(64 + ((source.index - 1) % 26) + 1)}`,
    identity: {
      manufacturer: MANUFACTURER,
      model: `VS-NVR-${source.channels}`,
      firmwareVersion: pick(nvrFirmware, 1),
      serialNumber: `VSNV${digits}`,
      hardwareId: `HW-NVR-${revision}`,
    },
    mainResolution: { width: 1920, height: 1080 },
  };
}
