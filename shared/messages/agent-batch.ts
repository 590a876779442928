import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { PayloadVersion } from './common.js';

/**
 * Many agent messages in one PUBLISH, on vigil/v1/{site}/agents/{agent}/batch: how the
 * agent replays its spool after an outage (one message per record would cost one round
 * trip each). Each record is a message exactly as it would have been published on its
 * own topic, with its own `seq` and original `ts`; the broker splits the batch and runs
 * every record through the pipeline in order, as if it had arrived alone. Retained
 * messages (device state) are never batched: retain is a property of one PUBLISH.
 */
export const BatchRecord = Type.Object(
  {
    /** The topic the message would have had (shared/topics.ts). */
    topic: Type.String({ minLength: 1, maxLength: 512 }),
    /** The message itself; checked against its own schema by the broker. */
    message: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);

export const AgentBatch = Type.Object(
  {
    v: PayloadVersion,
    siteId: Id,
    agentId: Id,
    /** When the batch was sent; the records keep their own times. */
    ts: Timestamp,
    records: Type.Array(BatchRecord, { minItems: 1, maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

export type BatchRecord = Static<typeof BatchRecord>;
export type AgentBatch = Static<typeof AgentBatch>;

export const agentBatchExample: AgentBatch = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  ts: '2026-11-26T09:00:00.000Z',
  records: [
    {
      topic: 'vigil/v1/demo-site/devices/cam-01/metrics',
      message: {
        v: 1,
        siteId: 'demo-site',
        agentId: 'gw-01',
        seq: 43,
        ts: '2026-11-26T08:03:30.004Z',
        deviceId: 'cam-01',
        kind: 'camera',
        values: { up: true, responseMs: 12.4, clockOffsetS: -0.8, profiles: 2 },
      },
    },
    {
      topic: 'vigil/v1/demo-site/devices/cam-01/metrics',
      message: {
        v: 1,
        siteId: 'demo-site',
        agentId: 'gw-01',
        seq: 44,
        ts: '2026-11-26T08:03:45.010Z',
        deviceId: 'cam-01',
        kind: 'camera',
        values: { up: true, responseMs: 11.9, clockOffsetS: -0.8, profiles: 2 },
      },
    },
  ],
};
