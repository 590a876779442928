import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceStore } from '../../../../broker/devices/store.js';
import { WriteBehindRegistry } from '../../../../broker/devices/write-behind.js';
import { openSqlite, type SqliteDatabase } from '../../../../broker/sql/sqlite.js';
import { BrokerEvents } from '../../../../broker/events.js';
import { decodeStage } from '../../../../broker/stages/decode.js';
import { trackStateStage } from '../../../../broker/stages/track-state.js';
import { validateStage } from '../../../../broker/stages/validate.js';
import type { Device } from '../../../../shared/api/devices.js';
import { context, metricsMessage, stateMessage } from './fixtures.js';

describe('track-state', () => {
  let db: SqliteDatabase;
  let registry: WriteBehindRegistry;
  let events: BrokerEvents;
  let emitted: Device[];
  const stages = () => [decodeStage(), validateStage(), trackStateStage(registry, events)];

  async function run(env: ReturnType<typeof stateMessage>) {
    const ctx = context(env);
    for (const stage of stages()) if ((await stage.run(ctx)) === 'stop') break;
    return ctx;
  }

  // The registry as the broker runs it: in memory over its store (test/suites/stores/
  // device-registry.ts holds the store to its promises on both engines).
  beforeEach(async () => {
    db = openSqlite(':memory:');
    const rows = new DeviceStore(db);
    await rows.start();
    registry = new WriteBehindRegistry(rows, { flushMs: 60_000 });
    await registry.start();
    events = new BrokerEvents();
    emitted = [];
    events.on('device', (device) => emitted.push(device));
  });

  afterEach(async () => {
    await registry.stop();
    await db.close();
  });

  it('records a device state, tells the live listeners, and hands the change on', async () => {
    const ctx = await run(
      stateMessage({ status: 'up', reasons: [], since: '2026-11-26T07:00:00.000Z' }),
    );
    const device = registry.get('demo-site', 'cam-01');
    expect(device).toMatchObject({
      id: 'cam-01',
      siteId: 'demo-site',
      agentId: 'gw-01',
      name: 'Lobby entrance',
      kind: 'camera',
      status: 'up',
      serialNumber: 'VS4M2026110001',
      since: '2026-11-26T07:00:00.000Z',
      lastSeen: '2026-11-26T08:03:15.120Z',
      responseMs: null,
    });
    expect(emitted).toEqual([device]);
    expect(ctx.previous).toBeUndefined();
    expect(ctx.device).toEqual(device);

    const next = await run(stateMessage({ status: 'down', ts: '2026-11-26T08:10:00.000Z' }));
    expect(next.previous?.status).toBe('up');
    expect(next.device?.status).toBe('down');
    expect(registry.list()).toHaveLength(1);
  });

  it("keeps an NVR's recordings, and the last list when a state comes without one", async () => {
    const recordings = [
      { token: 'REC_CH01', source: 'Channel 1' },
      { token: 'REC_CH02', source: 'Channel 2' },
    ];
    await run(stateMessage({ kind: 'nvr', status: 'up', reasons: [], recordings }));
    expect(registry.get('demo-site', 'cam-01')?.recordings).toEqual(recordings);
    // An agent of before the list (or a state of the recorder down) has none: kept.
    await run(stateMessage({ kind: 'nvr', status: 'down', ts: '2026-11-26T08:10:00.000Z' }));
    expect(registry.get('demo-site', 'cam-01')).toMatchObject({ status: 'down', recordings });
  });

  it('refreshes last seen and response time from metrics without a live event', async () => {
    await run(stateMessage({ status: 'up', reasons: [] }));
    emitted = [];
    const ctx = await run(
      metricsMessage({ up: true, responseMs: 33.5 }, '2026-11-26T08:20:00.000Z'),
    );
    expect(registry.get('demo-site', 'cam-01')).toMatchObject({
      lastSeen: '2026-11-26T08:20:00.000Z',
      responseMs: 33.5,
    });
    expect(emitted).toEqual([]);
    expect(ctx.device).toBeUndefined();
    // A late reading (older timestamp) does not move last seen back.
    await run(metricsMessage({ up: false }, '2026-11-26T08:00:00.000Z'));
    expect(registry.get('demo-site', 'cam-01')).toMatchObject({
      lastSeen: '2026-11-26T08:20:00.000Z',
      responseMs: 33.5,
    });
  });

  it('ignores readings of devices it has no state for', async () => {
    await run(metricsMessage());
    expect(registry.list()).toEqual([]);
  });

  it('tells the live listeners only once the state is in the store', async () => {
    let inStore: unknown;
    events.on('device', () => {
      inStore = db.raw.prepare('SELECT status FROM devices').pluck().get();
    });
    await run(stateMessage({ status: 'up', reasons: [] }));
    expect(inStore).toBe('up');
  });

  it('keeps devices in the database, where another registry over it finds them', async () => {
    await run(stateMessage());
    const again = new WriteBehindRegistry(new DeviceStore(db));
    await again.start();
    expect(again.list({ siteId: 'demo-site' })).toHaveLength(1);
    expect(again.list({ siteId: 'other' })).toEqual([]);
    await again.stop();
  });

  it('dates a device down from its first unanswered request (since), other changes by the message', async () => {
    await run(
      stateMessage({
        status: 'up',
        reasons: [],
        since: '2026-11-26T07:00:00.000Z',
        ts: '2026-11-26T07:00:00.100Z',
      }),
    );
    // The agent confirmed at 08:00:09 what its probe missed at 08:00:03.
    const down = [{ code: 'timeout' as const, message: 'no answer within 5000 ms' }];
    await run(
      stateMessage({
        status: 'down',
        reasons: down,
        since: '2026-11-26T08:00:03.000Z',
        ts: '2026-11-26T08:00:09.000Z',
      }),
    );
    // Still down, another message (a reconnect sends the state again): no new date.
    await run(
      stateMessage({
        status: 'down',
        reasons: [{ code: 'unreachable', message: 'connect ECONNREFUSED' }],
        since: '2026-11-26T08:00:03.000Z',
        ts: '2026-11-26T08:00:30.000Z',
      }),
    );
    // Up again; a `since` after the message's own time (a clock that stepped) is not taken.
    await run(
      stateMessage({
        status: 'up',
        reasons: [],
        since: '2026-11-26T08:02:00.000Z',
        ts: '2026-11-26T08:01:00.000Z',
      }),
    );
    const spans = await registry.outages.spans(
      'demo-site',
      'cam-01',
      ['timeout', 'unreachable'],
      '2026-11-26T00:00:00.000Z',
      '2026-11-27T00:00:00.000Z',
    );
    expect(spans.map((s) => [s.code, s.started, s.ended])).toEqual([
      ['timeout', '2026-11-26T08:00:03.000Z', '2026-11-26T08:00:30.000Z'],
      ['unreachable', '2026-11-26T08:00:30.000Z', '2026-11-26T08:01:00.000Z'],
    ]);
  });
});
