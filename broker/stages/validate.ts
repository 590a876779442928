/**
 * validate: the payload against its schema in shared/contract.ts, and against where it
 * came from: the ids inside must be the ids of the topic, and of the agent that
 * published it. A mismatch is refused (dead letter, counted); the pipeline goes on.
 */
import { contract, type PublishedKind } from '../../shared/contract.js';
import { validator } from '../../shared/validate.js';
import type { DecodedMessage, PipelineContext, Stage } from '../pipeline/types.js';

type Check = (value: unknown) => { ok: true; value: unknown } | { ok: false; errors: string[] };

function compileAll(): Record<PublishedKind, Check> {
  return {
    agentStatus: validator(contract.agentStatus.schema),
    agentHealth: validator(contract.agentHealth.schema),
    deviceState: validator(contract.deviceState.schema),
    deviceMetrics: validator(contract.deviceMetrics.schema),
  };
}

function isPublished(kind: string, checks: Record<PublishedKind, Check>): kind is PublishedKind {
  return Object.hasOwn(checks, kind);
}

/** Differences between the ids in the payload and those of the topic and the publisher. */
function idMismatches(ctx: PipelineContext, message: DecodedMessage): string[] {
  const problems: string[] = [];
  const topic = ctx.topic;
  const payload = message.payload;
  if (!topic) return problems;
  if (payload.siteId !== topic.siteId) {
    problems.push(`siteId: "${payload.siteId}" differs from the topic's site "${topic.siteId}"`);
  }
  if ('agentId' in topic && payload.agentId !== topic.agentId) {
    problems.push(
      `agentId: "${payload.agentId}" differs from the topic's agent "${topic.agentId}"`,
    );
  }
  if ('deviceId' in topic && 'deviceId' in payload && payload.deviceId !== topic.deviceId) {
    problems.push(
      `deviceId: "${payload.deviceId}" differs from the topic's device "${topic.deviceId}"`,
    );
  }
  const publisher = ctx.envelope.agent;
  if (publisher && payload.agentId !== publisher.agentId) {
    problems.push(
      `agentId: "${payload.agentId}" is not the publishing agent "${publisher.agentId}"`,
    );
  }
  return problems;
}

export function validateStage(): Stage {
  const checks = compileAll();
  return {
    name: 'validate',
    run(ctx) {
      const kind = ctx.topic?.kind;
      if (kind === undefined || !isPublished(kind, checks)) {
        ctx.rejection = `no agent publishes ${kind ?? 'this topic'}`;
        return 'stop';
      }
      const result = checks[kind](ctx.raw);
      if (!result.ok) {
        ctx.rejection = `${kind} does not match its schema: ${result.errors.join('; ')}`;
        return 'stop';
      }
      const message = { kind, payload: result.value } as DecodedMessage;
      const mismatches = idMismatches(ctx, message);
      if (mismatches.length > 0) {
        ctx.rejection = `${kind} does not match where it came from: ${mismatches.join('; ')}`;
        return 'stop';
      }
      ctx.message = message;
      return 'continue';
    },
  };
}
