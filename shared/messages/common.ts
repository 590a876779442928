import { Type } from 'typebox';
import { Id, Timestamp } from '../ids.js';

/** Version of the payload format; bumped together with TOPIC_ROOT. */
export const PayloadVersion = Type.Literal(1);

export const DeviceKind = Type.Union([Type.Literal('camera'), Type.Literal('nvr')]);

export const DeviceStatus = Type.Union([
  Type.Literal('up'),
  Type.Literal('degraded'),
  Type.Literal('down'),
  Type.Literal('unknown'),
]);

/**
 * Fields every agent message carries. `seq` counts up by one for every message an
 * agent publishes, so the broker can see gaps and drop duplicates of a redelivery.
 */
export const Header = {
  v: PayloadVersion,
  siteId: Id,
  agentId: Id,
  seq: Type.Integer({ minimum: 0 }),
  ts: Timestamp,
};

export const DeviceIdentity = Type.Object(
  {
    manufacturer: Type.String(),
    model: Type.String(),
    firmwareVersion: Type.String(),
    serialNumber: Type.String(),
    hardwareId: Type.String(),
  },
  { additionalProperties: false },
);

/** A device as the agent knows it from its configuration or discovery. */
export const DeviceRef = Type.Object(
  {
    id: Id,
    name: Type.String({ maxLength: 200 }),
    kind: DeviceKind,
    xaddr: Type.String({ format: 'uri' }),
  },
  { additionalProperties: false },
);
