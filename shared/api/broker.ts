import { Type, type Static } from 'typebox';

const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Number({ minimum: 0 });

/**
 * GET /api/broker: the broker's own figures, the same ones it publishes under
 * $SYS/vigil/broker/... (MQTT 3.1.1 section 4.7.2). Counters count since the start.
 */
export const BrokerStats = Type.Object({
  at: Type.String({ format: 'date-time' }),
  mqtt: Type.Object({
    clients: Count,
    /** Connected clients logged in with an agent account. */
    agents: Count,
    messagesIn: Count,
    messagesOut: Count,
    /** Over the last sampling period (1 s by default). */
    messagesInPerS: Rate,
    messagesOutPerS: Rate,
    refused: Type.Object({ connect: Count, publish: Count, subscribe: Count }),
  }),
  journal: Type.Object({
    /** Acknowledged messages not yet finished (stored, or refused as dead letters). */
    depth: Count,
    bytes: Count,
    maxBytes: Count,
    /** True while new messages are refused because the journal is full. */
    full: Type.Boolean(),
    appended: Count,
    finished: Count,
    refused: Count,
    commits: Count,
    lastCommitMs: Type.Number({ minimum: 0 }),
    /** Duplicates the dedupe stage dropped, since the journal was created. */
    duplicates: Count,
  }),
  pipeline: Type.Object({ processed: Count, rejected: Count }),
  metricsWriter: Type.Object({
    kind: Type.String(),
    /** Readings waiting for the metrics store (queued and in flight). */
    buffered: Count,
    inFlight: Count,
    written: Count,
    failedWrites: Count,
    lastError: Type.Union([Type.String(), Type.Null()]),
    lastWriteMs: Type.Number({ minimum: 0 }),
  }),
});
export type BrokerStats = Static<typeof BrokerStats>;

export const brokerStatsExample: BrokerStats = {
  at: '2026-11-26T08:00:00.000Z',
  mqtt: {
    clients: 412,
    agents: 410,
    messagesIn: 1_250_000,
    messagesOut: 35,
    messagesInPerS: 2040,
    messagesOutPerS: 0,
    refused: { connect: 3, publish: 1, subscribe: 0 },
  },
  journal: {
    depth: 1830,
    bytes: 52_428_800,
    maxBytes: 1_073_741_824,
    full: false,
    appended: 1_250_000,
    finished: 1_248_170,
    refused: 0,
    commits: 301_220,
    lastCommitMs: 0.4,
    duplicates: 12,
  },
  pipeline: { processed: 1_248_100, rejected: 70 },
  metricsWriter: {
    kind: 'influxdb',
    buffered: 1800,
    inFlight: 1,
    written: 1_240_000,
    failedWrites: 0,
    lastError: null,
    lastWriteMs: 38,
  },
};
