/**
 * decode: which kind of message this is (its topic, through shared/topics.ts) and its
 * JSON payload. A topic outside the tree or a payload that is not JSON is refused.
 */
import { parseTopic } from '../../shared/topics.js';
import type { Stage } from '../pipeline/types.js';

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
