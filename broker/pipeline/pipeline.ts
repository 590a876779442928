/**
 * Runs each message through the stages, in the order broker/stages/index.ts gives.
 * A stage refuses a message by setting `ctx.rejection` and stopping; a stage that
 * throws refuses it too. Either way the message goes to the dead-letter table, is
 * counted, and the next message runs: one bad message never stops the broker. Its log
 * line is limited to one per client and cause and interval, with a count (a client can
 * send thousands: ../log-limiter.ts); the counters and the dead letters take every one.
 *
 * Messages of one MQTT client run one after the other, in the order they arrived, so
 * a device's "down" cannot overtake the "up" before it; different clients run side by side.
 */
import type { Log } from '../log.js';
import { causeOf, LogLimiter } from '../log-limiter.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { Envelope, PipelineContext, Stage, StageResult, TickContext } from './types.js';

export interface PipelineCounters {
  /** Messages that went through every stage they needed. */
  processed: number;
  /** Messages refused and kept as dead letters. */
  rejected: number;
}

interface Queued {
  envelope: Envelope;
  finished: ((ctx: PipelineContext) => void) | undefined;
}

/** One client's messages waiting to run, oldest first; `head` is the next one. */
interface ClientQueue {
  items: Queued[];
  head: number;
}

/** The client part of a log key: the agent once known (a client id is the client's to choose). */
function clientOf(envelope: Envelope): string {
  return envelope.agent
    ? `${envelope.agent.siteId}.${envelope.agent.agentId}`
    : `client ${envelope.clientId}`;
}

export class Pipeline {
  readonly counters: PipelineCounters = { processed: 0, rejected: 0 };
  private readonly queues = new Map<string, ClientQueue>();
  private idleWaiters: (() => void)[] = [];
  private readonly limited: LogLimiter;

  constructor(
    readonly stages: readonly Stage[],
    private readonly deadLetters: DeadLetterSink,
    private readonly log: Log,
    /** Repeated lines of one client and cause at most this often; default 60 s. */
    options: { logIntervalMs?: number } = {},
  ) {
    this.limited = new LogLimiter(log, { intervalMs: options.logIntervalMs });
  }

  /** Writes the counts of rejections not logged yet (on stop, once idle). */
  flushLog(): void {
    this.limited.flush();
  }

  /**
   * Queues the message behind the earlier ones of the same client and runs what can run
   * now. Never throws. `finished` is called once every stage ran and the work they
   * started (the metrics write) completed: then the journal may forget the message. The
   * client's next message does not wait for that work.
   *
   * Why no promise chain per message: most stages are synchronous, and at 10,000
   * messages/s the promises and microtasks of an always-async chain were a tenth of the
   * broker's CPU (bench:broker). A message runs in the caller's turn unless a stage
   * returns a promise; then the rest of that client's queue waits for it.
   */
  feed(envelope: Envelope, finished?: (ctx: PipelineContext) => void): void {
    let queue = this.queues.get(envelope.clientId);
    if (queue) {
      // Already draining (or waiting for an asynchronous stage): it will get to this one.
      queue.items.push({ envelope, finished });
      return;
    }
    queue = { items: [{ envelope, finished }], head: 0 };
    this.queues.set(envelope.clientId, queue);
    this.drain(envelope.clientId, queue);
  }

  /** Resolves once every queued message has run. */
  idle(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * One beat of the broker's clock through the stages that act on time, in the same
   * order as a message (types.ts TickContext). Synchronous, so it never interleaves
   * with a message half way through a stage. Never throws: a stage that fails is logged
   * and the next one still runs (the SLA clocks must not stop because detection failed).
   */
  tick(): TickContext {
    const ctx: TickContext = { detections: [] };
    for (const stage of this.stages) {
      if (stage.tick === undefined) continue;
      try {
        stage.tick(ctx);
      } catch (error) {
        this.log.error(
          `stage ${stage.name} failed on the clock tick: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    return ctx;
  }

  /** Runs one message through every stage now; resolves with the final context. Never rejects. */
  async run(envelope: Envelope): Promise<PipelineContext> {
    return this.runNow(envelope);
  }

  private drain(clientId: string, queue: ClientQueue): void {
    while (queue.head < queue.items.length) {
      const item = queue.items[queue.head]!;
      queue.items[queue.head++] = undefined as unknown as Queued;
      const result = this.runNow(item.envelope);
      if (result instanceof Promise) {
        void result.then((ctx) => {
          this.complete(item, ctx);
          this.drain(clientId, queue);
        });
        return;
      }
      this.complete(item, result);
    }
    this.queues.delete(clientId);
    if (this.queues.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private complete(item: Queued, ctx: PipelineContext): void {
    const finished = item.finished;
    if (!finished) return;
    if (ctx.pending && ctx.pending.length > 0) {
      const pending = ctx.pending;
      void (pending.length === 1 ? pending[0]! : Promise.all(pending)).then(() => finished(ctx));
    } else finished(ctx);
  }

  /**
   * The stages in order, synchronously while they answer synchronously; a promise once
   * one of them returns a promise. Never throws or rejects.
   */
  private runNow(envelope: Envelope): PipelineContext | Promise<PipelineContext> {
    const ctx: PipelineContext = { envelope, detections: [] };
    let index = 0;
    try {
      for (; index < this.stages.length; index++) {
        const result = this.stages[index]!.run(ctx);
        if (typeof result !== 'string') return this.runRest(ctx, index, result);
        if (ctx.rejection !== undefined || result === 'stop') break;
      }
    } catch (error) {
      this.failed(ctx, index, error);
    }
    return this.settle(ctx, index);
  }

  private async runRest(
    ctx: PipelineContext,
    from: number,
    waiting: Promise<StageResult>,
  ): Promise<PipelineContext> {
    let index = from;
    try {
      let result = await waiting;
      while (ctx.rejection === undefined && result !== 'stop' && ++index < this.stages.length) {
        result = await this.stages[index]!.run(ctx);
      }
    } catch (error) {
      this.failed(ctx, index, error);
    }
    return this.settle(ctx, Math.min(index, this.stages.length - 1));
  }

  private failed(ctx: PipelineContext, index: number, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    ctx.rejection = `stage ${this.stages[index]?.name ?? ''} failed: ${message}`;
    this.limited.error(
      `failed|${clientOf(ctx.envelope)}|${this.stages[index]?.name ?? ''}`,
      `${ctx.rejection} (topic ${JSON.stringify(ctx.envelope.topic)}, client ${JSON.stringify(ctx.envelope.clientId)})`,
    );
  }

  /** Counts the message; a refused one goes to the dead letters with the stage that refused it. */
  private settle(ctx: PipelineContext, index: number): PipelineContext {
    if (ctx.rejection === undefined) {
      this.counters.processed++;
      return ctx;
    }
    const envelope = ctx.envelope;
    const stageName = this.stages[index]?.name ?? '';
    this.counters.rejected++;
    this.limited.warn(
      `rejected|${clientOf(envelope)}|${stageName}|${causeOf(ctx.rejection)}`,
      `rejected a message of client ${JSON.stringify(envelope.clientId)} on ${JSON.stringify(envelope.topic)} ` +
        `at ${stageName}: ${ctx.rejection}`,
    );
    // The journal finishes the message once its letter is stored (ctx.pending), so a
    // crash before the write replays it; a write that fails is said, and the message goes.
    const stored = this.deadLetters
      .add({
        topic: envelope.topic,
        clientId: envelope.clientId,
        stage: stageName,
        reason: ctx.rejection,
        payload: envelope.payload,
        receivedAt: envelope.receivedAt,
      })
      .catch((error: unknown) => {
        this.log.error(
          `cannot keep a dead letter: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    (ctx.pending ??= []).push(stored);
    return ctx;
  }
}
