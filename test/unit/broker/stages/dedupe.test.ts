import { describe, expect, it } from 'vitest';
import { dedupeStage } from '../../../../broker/stages/dedupe.js';
import type { DecodedMessage, PipelineContext } from '../../../../broker/pipeline/types.js';
import { agentOnlineExample } from '../../../../shared/messages/agent-status.js';
import { deviceMetricsExample } from '../../../../shared/messages/device-metrics.js';
import { context, metricsMessage } from './fixtures.js';

function withMessage(message: DecodedMessage): PipelineContext {
  return { ...context(metricsMessage()), message };
}
const reading = (seq: number): PipelineContext =>
  withMessage({ kind: 'deviceMetrics', payload: { ...deviceMetricsExample, seq } });
const birth = (seq: number, startedAt: string): PipelineContext =>
  withMessage({ kind: 'agentStatus', payload: { ...agentOnlineExample, seq, startedAt } });

describe('dedupe stage', () => {
  it('drops a message whose seq it already took from the same agent run, and counts it', () => {
    const dropped: string[] = [];
    const stage = dedupeStage({ onDuplicate: (agent) => dropped.push(agent) });
    const outcomes = [1, 2, 3, 2, 4, 1].map((seq) => stage.run(reading(seq)));
    expect(outcomes).toEqual(['continue', 'continue', 'continue', 'stop', 'continue', 'stop']);
    expect(dropped).toEqual(['demo-site/gw-01', 'demo-site/gw-01']);
  });

  it('starts over when the agent restarts (a birth of a new run), so seq 0, 1 ... are taken again', () => {
    const stage = dedupeStage();
    expect(stage.run(birth(0, '2026-11-26T07:00:00.000Z'))).toBe('continue');
    for (const seq of [1, 2]) expect(stage.run(reading(seq))).toBe('continue');
    expect(stage.run(birth(0, '2026-11-26T07:00:00.000Z'))).toBe('stop'); // re-sent birth
    expect(stage.run(birth(0, '2026-11-26T09:00:00.000Z'))).toBe('continue');
    expect([1, 2].map((seq) => stage.run(reading(seq)))).toEqual(['continue', 'continue']);
  });

  it('takes a seq far below the highest as a new run it missed the birth of, never dropping it', () => {
    const stage = dedupeStage({ window: 100 });
    for (let seq = 0; seq < 500; seq++) expect(stage.run(reading(seq))).toBe('continue');
    expect(stage.run(reading(3))).toBe('continue');
    expect(stage.run(reading(3))).toBe('stop');
  });
});
