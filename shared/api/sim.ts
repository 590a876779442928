/**
 * The simulator's control API (`vigil sim`): list the simulated devices and inject or
 * clear faults. Tests of other parts and the demo drive the simulator through it.
 *
 *   GET    /sim/devices              -> SimDevice[]
 *   GET    /sim/devices/{id}         -> SimDevice            (404 ApiError)
 *   POST   /sim/devices/{id}/faults  SimFault -> 201 SimDevice (400, 404 ApiError)
 *   DELETE /sim/devices/{id}/faults  -> 200 SimDevice, every fault cleared (404 ApiError)
 */
import { Type, type Static } from 'typebox';
import { Id } from '../ids.js';
import { DeviceKind } from '../messages/common.js';

export const simRoutes = {
  devices: '/sim/devices',
  device: (id: string) => `/sim/devices/${encodeURIComponent(id)}`,
  faults: (id: string) => `/sim/devices/${encodeURIComponent(id)}/faults`,
} as const;

/**
 * A fault the simulator can inject into one device. One object per kind; kinds with
 * parameters (slow, clock-drift, ...) join this union with their own fields.
 * - offline: the device's port refuses connections.
 * - hang: the device accepts the connection and the request and never answers.
 */
export const SimFault = Type.Union([
  Type.Object({ kind: Type.Literal('offline') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('hang') }, { additionalProperties: false }),
]);
export type SimFault = Static<typeof SimFault>;
export type SimFaultKind = SimFault['kind'];

export const simFaultExamples: SimFault[] = [{ kind: 'offline' }, { kind: 'hang' }];

/** A simulated device as the control API shows it; the device password is never here. */
export const SimDevice = Type.Object(
  {
    id: Id,
    kind: DeviceKind,
    name: Type.String(),
    /** Device service entry point: http://HOST:PORT/onvif/device_service */
    xaddr: Type.String(),
    serialNumber: Type.String(),
    manufacturer: Type.String(),
    model: Type.String(),
    firmwareVersion: Type.String(),
    hardwareId: Type.String(),
    /** Video inputs: 1 for a camera, the channel count for an NVR. */
    channels: Type.Integer({ minimum: 1 }),
    faults: Type.Array(SimFault),
  },
  { additionalProperties: false },
);
export type SimDevice = Static<typeof SimDevice>;
export const SimDeviceList = Type.Array(SimDevice);

export const simDeviceExample: SimDevice = {
  id: 'cam-01',
  kind: 'camera',
  name: 'Lobby entrance',
  xaddr: 'http://127.0.0.1:40101/onvif/device_service',
  serialNumber: 'VS4M2026110001',
  manufacturer: 'Vigil Sim',
  model: 'VS-IPC-4M',
  firmwareVersion: '5.7.3 build 260101',
  hardwareId: 'HW-4M-A1',
  channels: 1,
  faults: [{ kind: 'hang' }],
};
