/**
 * Runs each message through the stages, in the order broker/pipeline/index.ts gives.
 * A stage refuses a message by setting `ctx.rejection` and stopping; a stage that
 * throws refuses it too. Either way the message goes to the dead-letter table, is
 * counted, and the next message runs: one bad message never stops the broker.
 *
 * Messages of one MQTT client run one after the other, in the order they arrived, so
 * a device's "down" cannot overtake the "up" before it; different clients run side by side.
 */
import type { Log } from '../log.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { Envelope, PipelineContext, Stage } from './types.js';

export interface PipelineCounters {
  /** Messages that went through every stage they needed. */
  processed: number;
  /** Messages refused and kept as dead letters. */
  rejected: number;
}

export class Pipeline {
  readonly counters: PipelineCounters = { processed: 0, rejected: 0 };
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    readonly stages: readonly Stage[],
    private readonly deadLetters: DeadLetterSink,
    private readonly log: Log,
  ) {}

  /**
   * Queues the message behind the earlier ones of the same client. Never throws.
   * `finished` is called once every stage ran and the work they started (the metrics
   * write) completed: then the journal may forget the message. The client's next
   * message does not wait for that work.
   */
  feed(envelope: Envelope, finished?: (ctx: PipelineContext) => void): void {
    const previous = this.queues.get(envelope.clientId) ?? Promise.resolve();
    const next = previous.then(async () => {
      const ctx = await this.run(envelope);
      if (finished) {
        if (ctx.pending && ctx.pending.length > 0)
          void Promise.all(ctx.pending).then(() => finished(ctx));
        else finished(ctx);
      }
    });
    this.queues.set(envelope.clientId, next);
    void next.then(() => {
      // The last message of this client is done: forget its queue.
      if (this.queues.get(envelope.clientId) === next) this.queues.delete(envelope.clientId);
    });
  }

  /** Resolves once every queued message has run. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.all([...this.queues.values()]);
  }

  /** Runs one message through every stage now; resolves with the final context. Never rejects. */
  async run(envelope: Envelope): Promise<PipelineContext> {
    const ctx: PipelineContext = { envelope, detections: [] };
    let stageName = '';
    try {
      for (const stage of this.stages) {
        stageName = stage.name;
        const result = await stage.run(ctx);
        if (ctx.rejection !== undefined || result === 'stop') break;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      ctx.rejection = `stage ${stageName} failed: ${message}`;
      this.log.error(
        `${ctx.rejection} (topic ${JSON.stringify(envelope.topic)}, client ${JSON.stringify(envelope.clientId)})`,
      );
    }
    if (ctx.rejection === undefined) {
      this.counters.processed++;
      return ctx;
    }
    this.counters.rejected++;
    this.log.warn(
      `rejected a message of client ${JSON.stringify(envelope.clientId)} on ${JSON.stringify(envelope.topic)} ` +
        `at ${stageName}: ${ctx.rejection}`,
    );
    try {
      this.deadLetters.add({
        topic: envelope.topic,
        clientId: envelope.clientId,
        stage: stageName,
        reason: ctx.rejection,
        payload: envelope.payload,
        receivedAt: envelope.receivedAt,
      });
    } catch (error) {
      this.log.error(
        `cannot keep a dead letter: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return ctx;
  }
}
