/**
 * The messages this issue added to the contract (batch, command, response) have examples
 * that pass their schemas, and the broker's unbatch step turns an agent's batch back
 * into its records, in order, refusing records outside the agent's own topics.
 */
import { describe, expect, it } from 'vitest';
import { unbatch } from '../../../broker/stages/decode.js';
import type { Envelope } from '../../../broker/pipeline/types.js';
import { decodeStage } from '../../../broker/stages/decode.js';
import { carriers, contract } from '../../../shared/contract.js';
import { agentBatchExample } from '../../../shared/messages/agent-batch.js';
import { topics } from '../../../shared/topics.js';
import { validator } from '../../../shared/validate.js';

function envelope(topic: string, payload: unknown): Envelope {
  return {
    topic,
    payload: Buffer.from(JSON.stringify(payload)),
    clientId: 'demo-site.gw-01',
    agent: { siteId: 'demo-site', agentId: 'gw-01' },
    receivedAt: new Date(),
  };
}

describe('contract additions', () => {
  for (const [kind, entry] of Object.entries({ ...carriers, ...contract })) {
    it(`the examples of ${kind} pass its schema`, () => {
      const check = validator(entry.schema);
      for (const example of entry.examples) expect(check(example)).toMatchObject({ ok: true });
    });
  }
});

describe('unbatch', () => {
  it('gives one envelope per record, in order, each as if published alone', () => {
    const batch = envelope(topics.agentBatch('demo-site', 'gw-01'), agentBatchExample);
    const out = unbatch(batch);
    expect(out.map((e) => e.topic)).toEqual(agentBatchExample.records.map((r) => r.topic));
    expect(out.map((e) => (JSON.parse(e.payload.toString()) as { seq: number }).seq)).toEqual([
      43, 44,
    ]);
    expect(out[0]?.clientId).toBe('demo-site.gw-01');
  });

  it('leaves other messages alone', () => {
    const one = envelope(topics.deviceMetrics('demo-site', 'cam-01'), {});
    expect(unbatch(one)).toEqual([one]);
  });

  it('keeps a batch with a record of another site whole, and decode refuses it with the reason', async () => {
    const bad = {
      ...agentBatchExample,
      records: [
        ...agentBatchExample.records,
        { topic: topics.deviceMetrics('other-site', 'cam-01'), message: {} },
      ],
    };
    const batch = envelope(topics.agentBatch('demo-site', 'gw-01'), bad);
    expect(unbatch(batch)).toEqual([batch]);
    const ctx = { envelope: batch, detections: [] };
    expect(await decodeStage().run(ctx)).toBe('stop');
    expect((ctx as { rejection?: string }).rejection).toMatch(
      /records\/2\/topic: site "other-site"/,
    );
  });
});
