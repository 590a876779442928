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
    gateway: Type.Object(
      {
        cpuLoadPct: Type.Number({ minimum: 0 }),
        memUsedPct: Type.Number({ minimum: 0, maximum: 100 }),
        diskUsedPct: Type.Number({ minimum: 0, maximum: 100 }),
        temperatureC: Type.Optional(Type.Number()),
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
  gateway: { cpuLoadPct: 7.5, memUsedPct: 41.2, diskUsedPct: 23.9, temperatureC: 48 },
};
