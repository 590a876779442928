import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeadLetterStore } from '../../../../broker/pipeline/dead-letters.js';
import { Pipeline } from '../../../../broker/pipeline/pipeline.js';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import type { Envelope, Stage, StageResult } from '../../../../broker/pipeline/types.js';
import { decodeStage } from '../../../../broker/stages/decode.js';
import { validateStage } from '../../../../broker/stages/validate.js';
import { recordingLog, type RecordingLog } from '../../../helpers/logs.js';
import { envelope, metricsMessage, stateMessage } from '../stages/fixtures.js';

/** A stage that records what reached it, after an optional delay. */
function recorder(seen: string[], delayMs: (env: Envelope) => number = () => 0): Stage {
  return {
    name: 'record',
    async run(ctx): Promise<StageResult> {
      await new Promise((resolve) => setTimeout(resolve, delayMs(ctx.envelope)));
      const payload = ctx.message?.payload;
      seen.push(`${ctx.envelope.clientId}:${payload && 'seq' in payload ? payload.seq : '?'}`);
      return 'continue';
    },
  };
}

describe('pipeline', () => {
  let db: SqliteDatabase;
  let deadLetters: DeadLetterStore;
  let log: RecordingLog;

  // The store's own behaviour is its conformance suite's (test/suites/stores/dead-letters.ts);
  // here it is where the pipeline puts what it refuses.
  beforeEach(async () => {
    db = openSqlite(':memory:');
    deadLetters = new DeadLetterStore(db);
    await deadLetters.start();
    log = recordingLog();
  });

  afterEach(() => db.close());

  it('runs the stages in order and counts the message as processed', async () => {
    const seen: string[] = [];
    const pipeline = new Pipeline(
      [decodeStage(), validateStage(), recorder(seen)],
      deadLetters,
      log,
    );
    const ctx = await pipeline.run(stateMessage());
    expect(ctx.message?.kind).toBe('deviceState');
    expect(seen).toEqual(['gw-01-client:42']);
    expect(pipeline.counters).toEqual({ processed: 1, rejected: 0 });
  });

  it('keeps a refused message as a dead letter, counts it, logs why, and goes on', async () => {
    const seen: string[] = [];
    const pipeline = new Pipeline(
      [decodeStage(), validateStage(), recorder(seen)],
      deadLetters,
      log,
    );
    const bad = stateMessage({ status: 'exploded' as never });
    pipeline.feed(bad);
    pipeline.feed(metricsMessage());
    await pipeline.idle();
    expect(pipeline.counters).toEqual({ processed: 1, rejected: 1 });
    expect(seen).toEqual(['gw-01-client:43']);
    const [letter] = await deadLetters.list();
    expect(letter).toMatchObject({
      topic: bad.topic,
      clientId: 'gw-01-client',
      stage: 'validate',
      reason: expect.stringMatching(/^deviceState does not match its schema: status/),
      receivedAt: bad.receivedAt.toISOString(),
      truncated: false,
    });
    expect(letter?.payload.equals(bad.payload)).toBe(true);
    expect(log.lines.join('\n')).toMatch(
      /rejected a message of client "gw-01-client" .* at validate/,
    );
  });

  it('turns a stage that throws into a dead letter instead of a crash', async () => {
    const broken: Stage = {
      name: 'broken',
      run() {
        throw new Error('disk on fire');
      },
    };
    const pipeline = new Pipeline([decodeStage(), validateStage(), broken], deadLetters, log);
    await pipeline.run(stateMessage());
    expect(pipeline.counters.rejected).toBe(1);
    expect((await deadLetters.list())[0]).toMatchObject({
      stage: 'broken',
      reason: 'stage broken failed: disk on fire',
    });
  });

  it('runs the messages of one client in arrival order, even when an early one is slow', async () => {
    const seen: string[] = [];
    const slowFirst = (env: Envelope) => (env.payload.includes('"seq":1,') ? 30 : 0);
    const pipeline = new Pipeline(
      [decodeStage(), validateStage(), recorder(seen, slowFirst)],
      deadLetters,
      log,
    );
    for (const seq of [1, 2, 3]) pipeline.feed(stateMessage({ seq }));
    // Another client is not held up by the first one's slow message.
    pipeline.feed(
      envelope(
        stateMessage({ seq: 9 }).topic,
        { ...JSON.parse(stateMessage({ seq: 9 }).payload.toString()) },
        'other',
      ),
    );
    await pipeline.idle();
    expect(seen).toEqual(['other:9', 'gw-01-client:1', 'gw-01-client:2', 'gw-01-client:3']);
  });

  it('finishes a refused message only once its dead letter is stored', async () => {
    const pipeline = new Pipeline([decodeStage()], deadLetters, log);
    const finished = await new Promise<number>((resolve) =>
      pipeline.feed(envelope('not/a/vigil/topic', { i: 1 }), () =>
        resolve(db.raw.prepare('SELECT COUNT(*) AS n FROM dead_letters').pluck().get() as number),
      ),
    );
    expect(finished).toBe(1);
  });

  it('says so when a dead letter cannot be stored, and still finishes the message', async () => {
    const broken = { add: () => Promise.reject(new Error('database gone')) };
    const pipeline = new Pipeline([decodeStage()], broken, log);
    await new Promise<void>((resolve) =>
      pipeline.feed(envelope('not/a/vigil/topic', { i: 1 }), () => resolve()),
    );
    expect(log.lines.join('\n')).toMatch(/cannot keep a dead letter: database gone/);
  });
});
