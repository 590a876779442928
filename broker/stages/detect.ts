/**
 * detect: hands what the agents report to the detector (broker/detect/): device state
 * changes, the agents' birth and will, their health, devices' readings (for the rules
 * that judge one: retention), and every message as a sign of life. What the detector
 * decides (a fault that needs a ticket now, a fault that is over) goes into
 * ctx.detections for the ticket stage. On a clock beat it lets the
 * detector decide what time decides: held faults whose hold is over, agents silent past
 * the heartbeat timeout, flapping that calmed down.
 */
import type { Detector } from '../detect/detector.js';
import type { PipelineContext, Stage } from '../pipeline/types.js';

export function detectStage(detector: Detector): Stage {
  return {
    name: 'detect',
    run(ctx) {
      const message = ctx.message;
      if (!message) return 'continue';
      // If a rule throws, the pipeline keeps the message as a dead letter and skips the
      // ticket stage: what was decided stays in the outbox for the next message or beat.
      hand(message, ctx);
      ctx.detections.push(...detector.take());
      // The journal finishes the message once the state it changed is saved (a crash
      // before then replays it); the stages after this one do not wait for the write.
      const saved = detector.saved();
      if (saved) (ctx.pending ??= []).push(saved);
      return 'continue';
    },
    tick(ctx) {
      // A failed beat still hands on what was decided: Pipeline.tick runs the ticket
      // stage after a stage that threw.
      try {
        detector.tick();
      } finally {
        ctx.detections.push(...detector.take());
      }
    },
  };

  function hand(message: NonNullable<PipelineContext['message']>, ctx: PipelineContext): void {
    switch (message.kind) {
      case 'deviceState':
        if (ctx.device) detector.deviceChanged(ctx.previous, ctx.device);
        break;
      case 'agentStatus': {
        const status = message.payload;
        if (status.state === 'online') detector.agentSeen(status.siteId, status.agentId);
        else detector.agentOffline(status.siteId, status.agentId, status.reason);
        break;
      }
      case 'agentHealth':
        detector.agentHealth(message.payload);
        break;
      case 'deviceMetrics':
        detector.deviceMetrics(message.payload);
        break;
      default: {
        // Every kind an agent publishes is handled above (each is a sign of life too): a
        // kind added to the contract must say here what the detector makes of it.
        const unhandled: never = message;
        return unhandled;
      }
    }
  }
}
