/**
 * decode: which kind of message this is (its topic, through shared/topics.ts) and its
 * JSON payload. A topic outside the tree or a payload that is not JSON is refused.
 *
 * Also here: `unbatch`, which splits an agent's batch (shared/messages/agent-batch.ts)
 * into one envelope per record before the pipeline, so every stage sees single messages
 * in the order the agent produced them. A batch that cannot be split is fed whole, and
 * this stage refuses it with the reason (a dead letter like any other bad message).
 */
import { carriers, contract } from '../../shared/contract.js';
import type { AgentBatch } from '../../shared/messages/agent-batch.js';
import { parseTopic } from '../../shared/topics.js';
import { validator } from '../../shared/validate.js';
import { mayPublish } from '../mqtt/topic-rights.js';
import type { Envelope, Stage } from '../pipeline/types.js';

const checkBatch = validator(carriers.agentBatch.schema);

/** Why a batch cannot be split, or its content when it can. */
function readBatch(envelope: Envelope): { problem: string } | { batch: AgentBatch } {
  const topic = parseTopic(envelope.topic);
  if (topic?.kind !== 'agentBatch') return { problem: 'not a batch topic' };
  let raw: unknown;
  try {
    raw = JSON.parse(envelope.payload.toString('utf8')) as unknown;
  } catch (error) {
    return {
      problem: `the batch is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const result = checkBatch(raw);
  if (!result.ok)
    return { problem: `the batch does not match its schema: ${result.errors.join('; ')}` };
  const batch = result.value as AgentBatch;
  if (batch.siteId !== topic.siteId || batch.agentId !== topic.agentId) {
    return { problem: 'the batch names another site or agent than its topic' };
  }
  const publisher = envelope.agent ?? { siteId: topic.siteId, agentId: topic.agentId };
  for (const [i, record] of batch.records.entries()) {
    const inner = parseTopic(record.topic);
    // Any single agent message may be batched: the contract's kinds and command answers.
    if (!inner || (!Object.hasOwn(contract, inner.kind) && inner.kind !== 'agentResponses')) {
      return {
        problem: `records/${i}/topic: ${record.topic} is not a topic an agent publishes on`,
      };
    }
    // The agent was authorized for the batch topic only: each record's topic gets the
    // same check as if it had been published alone.
    const decision = mayPublish({ ...publisher, username: envelope.clientId }, record.topic);
    if (!decision.allowed) return { problem: `records/${i}/topic: ${decision.reason}` };
  }
  return { batch };
}

/** One envelope per record of a batch, in order; any other envelope as it is. */
export function unbatch(envelope: Envelope): Envelope[] {
  if (parseTopic(envelope.topic)?.kind !== 'agentBatch') return [envelope];
  const read = readBatch(envelope);
  if (!('batch' in read)) return [envelope];
  return read.batch.records.map((record) => ({
    ...envelope,
    topic: record.topic,
    payload: Buffer.from(JSON.stringify(record.message)),
  }));
}

export function decodeStage(): Stage {
  return {
    name: 'decode',
    run(ctx) {
      const topic = parseTopic(ctx.envelope.topic);
      if (!topic) {
        ctx.rejection = 'the topic is not part of the vigil/v1 topic tree';
        return 'stop';
      }
      ctx.topic = topic;
      if (topic.kind === 'agentBatch') {
        const read = readBatch(ctx.envelope);
        ctx.rejection =
          'problem' in read ? read.problem : 'a batch reached the pipeline without being split';
        return 'stop';
      }
      // Answers to NOC commands go to the command sender (broker/commands/), not the pipeline.
      if (topic.kind === 'agentResponses') return 'stop';
      // MQTT 3.1.1 section 3.3.1.3: a retained PUBLISH with an empty payload only removes
      // the retained message (an agent forgetting a device); it carries nothing to process.
      if (ctx.envelope.payload.length === 0) return 'stop';
      try {
        ctx.raw = JSON.parse(ctx.envelope.payload.toString('utf8')) as unknown;
      } catch (error) {
        ctx.rejection = `the payload is not JSON: ${error instanceof Error ? error.message : String(error)}`;
        return 'stop';
      }
      return 'continue';
    },
  };
}
