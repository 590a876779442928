import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { DeviceKind, DeviceRef, Header, PayloadVersion } from './common.js';

/**
 * A device that answered the agent's WS-Discovery Probe (ONVIF Core 7.3) but is neither
 * configured nor adopted (`discovery.adopt: approve`): the NOC decides whether to add it.
 * `endpoint` is the WS-Addressing endpoint reference, stable across address changes.
 */
export const DiscoveredDevice = Type.Object(
  {
    endpoint: Type.String({ maxLength: 200 }),
    xaddr: Type.String({ format: 'uri' }),
    /** The id the agent would give it when adopted. */
    suggestedId: Id,
    name: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    hardware: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
    kind: DeviceKind,
    firstSeenAt: Timestamp,
    lastSeenAt: Timestamp,
  },
  { additionalProperties: false },
);

/** Birth message: published retained on every (re)connection, so a broker restart knows the site. */
export const AgentOnline = Type.Object(
  {
    ...Header,
    state: Type.Literal('online'),
    version: Type.String(),
    startedAt: Timestamp,
    hostname: Type.String(),
    devices: Type.Array(DeviceRef),
    /** Discovered, not adopted, waiting for approval; absent when discovery is off. */
    discovered: Type.Optional(Type.Array(DiscoveredDevice, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);

/**
 * Offline message. Registered as the MQTT last will (retained, QoS 1) so the broker
 * publishes it when the connection is lost (MQTT 3.1.1 section 3.1.2.5); published by
 * the agent itself with reason "shutdown" when it stops on purpose. A will is fixed
 * when the agent connects, so it carries no sequence number and `ts` is that moment.
 */
export const AgentOffline = Type.Object(
  {
    v: PayloadVersion,
    siteId: Id,
    agentId: Id,
    ts: Timestamp,
    state: Type.Literal('offline'),
    reason: Type.Union([Type.Literal('connection-lost'), Type.Literal('shutdown')]),
  },
  { additionalProperties: false },
);

export const AgentStatus = Type.Union([AgentOnline, AgentOffline]);

export type AgentOnline = Static<typeof AgentOnline>;
export type DiscoveredDevice = Static<typeof DiscoveredDevice>;
export type AgentOffline = Static<typeof AgentOffline>;
export type AgentStatus = Static<typeof AgentStatus>;

export const agentOnlineExample: AgentOnline = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 0,
  ts: '2026-11-26T08:00:00.000Z',
  state: 'online',
  version: '0.1.0',
  startedAt: '2026-11-26T07:59:58.000Z',
  hostname: 'gateway-01',
  devices: [
    {
      id: 'cam-01',
      name: 'Lobby entrance',
      kind: 'camera',
      xaddr: 'http://192.0.2.11/onvif/device_service',
    },
    {
      id: 'nvr-01',
      name: 'Recorder A',
      kind: 'nvr',
      xaddr: 'http://192.0.2.50/onvif/device_service',
    },
  ],
};

/** A birth with discovery in `approve` mode: one camera answered and waits for the NOC. */
export const agentOnlineDiscoveredExample: AgentOnline = {
  ...agentOnlineExample,
  discovered: [
    {
      endpoint: 'urn:uuid:4d0b8c1e-2f3a-5b6c-a7d8-e9f0a1b2c3d4',
      xaddr: 'http://192.0.2.23/onvif/device_service',
      suggestedId: 'onvif-4d0b8c1e2f3a5b6ca7d8e9f0a1b2c3d4',
      name: 'Parking east',
      hardware: 'IPC-3200',
      kind: 'camera',
      firstSeenAt: '2026-11-26T07:59:59.000Z',
      lastSeenAt: '2026-11-26T08:00:00.000Z',
    },
  ],
};

export const agentOfflineExample: AgentOffline = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  ts: '2026-11-26T08:00:00.000Z',
  state: 'offline',
  reason: 'connection-lost',
};
