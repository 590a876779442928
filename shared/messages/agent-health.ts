import { Type, type Static } from 'typebox';
import { Timestamp } from '../ids.js';
import { Header } from './common.js';

/**
 * The agent's own health, as data rather than log lines (STYLE habit 10): the NOC sees
 * an agent that falls behind or cannot deliver before anyone visits the site.
 */
export const AgentHealth = Type.Object(
  {
    ...Header,
    uptimeS: Type.Number({ minimum: 0 }),
    devices: Type.Object(
      {
        total: Type.Integer({ minimum: 0 }),
        up: Type.Integer({ minimum: 0 }),
        degraded: Type.Integer({ minimum: 0 }),
        down: Type.Integer({ minimum: 0 }),
        unknown: Type.Integer({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
    /** Messages waiting to be acknowledged by the broker. */
    queueDepth: Type.Integer({ minimum: 0 }),
    /** Polls that threw something other than a device failure (a bug, not a camera). */
    checkErrors: Type.Integer({ minimum: 0 }),
    lastPollAt: Type.Union([Timestamp, Type.Null()]),
    /** The durable outbox (agent/spool/): what waits for the broker, and what was lost. */
    spool: Type.Optional(
      Type.Object(
        {
          depth: Type.Integer({ minimum: 0 }),
          bytes: Type.Integer({ minimum: 0 }),
          /** Age of the oldest record waiting, in seconds; null when empty. */
          oldestAgeS: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
          /** Records dropped unsent because the spool was full (oldest first), ever. */
          dropped: Type.Integer({ minimum: 0 }),
          /**
           * Of depth, the records kept only in memory because the gateway's disk refuses
           * writes (full): lost if the agent stops before they are sent or written.
           */
          held: Type.Optional(Type.Integer({ minimum: 0 })),
          /** Why the spool cannot write to disk now ('ENOSPC': full); absent while it can. */
          diskError: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    mqtt: Type.Optional(
      Type.Object(
        { connected: Type.Boolean(), inFlight: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
    ),
    /** Per device id: the last poll that found it answering (up or degraded), or null. */
    lastOkPollAt: Type.Optional(Type.Record(Type.String(), Type.Union([Timestamp, Type.Null()]))),
    gateway: Type.Object(
      {
        cpuLoadPct: Type.Number({ minimum: 0 }),
        memUsedPct: Type.Number({ minimum: 0, maximum: 100 }),
        diskUsedPct: Type.Number({ minimum: 0, maximum: 100 }),
        temperatureC: Type.Optional(Type.Number()),
        /** Seconds since the gateway booted (a reboot nobody noticed shows here). */
        uptimeS: Type.Optional(Type.Number({ minimum: 0 })),
        /** Network interfaces that are up, with their first IPv4 address. */
        interfaces: Type.Optional(
          Type.Array(
            Type.Object(
              {
                name: Type.String({ maxLength: 64 }),
                ip4: Type.String({ maxLength: 64 }),
                up: Type.Boolean(),
              },
              { additionalProperties: false },
            ),
            { maxItems: 64 },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type AgentHealth = Static<typeof AgentHealth>;

export const agentHealthExample: AgentHealth = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 44,
  ts: '2026-11-26T08:04:00.000Z',
  uptimeS: 242.1,
  devices: { total: 26, up: 25, degraded: 0, down: 1, unknown: 0 },
  queueDepth: 0,
  checkErrors: 0,
  lastPollAt: '2026-11-26T08:03:59.310Z',
  spool: { depth: 3, bytes: 1180, oldestAgeS: 0.4, dropped: 0, held: 0 },
  mqtt: { connected: true, inFlight: 1 },
  lastOkPollAt: { 'cam-01': '2026-11-26T08:03:59.310Z', 'cam-02': null },
  gateway: {
    cpuLoadPct: 7.5,
    memUsedPct: 41.2,
    diskUsedPct: 23.9,
    temperatureC: 48,
    uptimeS: 864_000,
    interfaces: [{ name: 'eth0', ip4: '192.0.2.2', up: true }],
  },
};
