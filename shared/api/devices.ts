import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { DeviceIdentity, DeviceKind, DeviceStatus } from '../messages/common.js';
import { Reason, RecordingRef } from '../messages/device-state.js';
import { Nullable } from './common.js';

/** A device as the broker knows it: the latest state an agent reported and when. */
export const Device = Type.Object({
  id: Id,
  siteId: Id,
  agentId: Id,
  name: Type.String(),
  kind: DeviceKind,
  status: DeviceStatus,
  reasons: Type.Array(Reason),
  xaddr: Type.String(),
  serialNumber: Nullable(Type.String()),
  identity: Nullable(DeviceIdentity),
  /** Status unchanged since. */
  since: Nullable(Timestamp),
  /** Last message of any kind about this device. */
  lastSeen: Nullable(Timestamp),
  responseMs: Nullable(Type.Number()),
  /** Video channels the device last reported (the agent's media check); absent until then. */
  channels: Type.Optional(Type.Integer({ minimum: 0 })),
  /** An NVR's recordings as its agent last listed them (DeviceState.recordings). */
  recordings: Type.Optional(Type.Array(RecordingRef, { maxItems: 256 })),
});
export type Device = Static<typeof Device>;
export const DeviceList = Type.Array(Device);

export const deviceExample: Device = {
  id: 'cam-01',
  siteId: 'demo-site',
  agentId: 'gw-01',
  name: 'Lobby entrance',
  kind: 'camera',
  status: 'up',
  reasons: [],
  xaddr: 'http://192.0.2.11/onvif/device_service',
  serialNumber: 'VS4M2026110001',
  identity: {
    manufacturer: 'Vigil Sim',
    model: 'VS-IPC-4M',
    firmwareVersion: '5.7.3 build 260101',
    serialNumber: 'VS4M2026110001',
    hardwareId: 'HW-4M-A1',
  },
  since: '2026-11-26T07:00:00.000Z',
  lastSeen: '2026-11-26T08:03:30.004Z',
  responseMs: 12.4,
};
