/**
 * The conformance suite of the detector's state (broker/detect/state-store.ts), run on
 * SQLite and on PostgreSQL (test/suites/stores/backends.ts): what the detector decided
 * survives a restart, and on a pair the node that takes over loads what the other wrote
 * (issue 17 part 3: "the new leader rebuilds ... detector state from the store").
 */
import { beforeEach, expect, it } from 'vitest';
import type { Device } from '../../../shared/api/devices.js';
import { deviceExample } from '../../../shared/api/devices.js';
import { message } from '../../../shared/wording/messages.js';
import type { Condition } from '../../../broker/detect/conditions.js';
import { Detector } from '../../../broker/detect/detector.js';
import { DetectStateStore } from '../../../broker/detect/state-store.js';
import type { DeviceRegistry } from '../../../broker/devices/registry.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

function camera(id: string, patch: Partial<Device> = {}): Device {
  return { ...deviceExample, id, name: `Camera ${id}`, status: 'up', reasons: [], ...patch };
}

const down = (id: string): Device =>
  camera(id, {
    status: 'down',
    reasons: [{ code: 'unreachable', message: 'no answer' }],
    since: '2026-12-07T06:00:00.000Z',
  });

/** The registry the rules read: five cameras, so one down is no site outage held back. */
function registry(): DeviceRegistry {
  const devices = new Map(
    ['cam-01', 'cam-02', 'cam-03', 'cam-04', 'cam-05'].map((id) => [id, camera(id)]),
  );
  return {
    get: (_siteId, id) => devices.get(id),
    list: () => [...devices.values()],
    put(device) {
      const previous = devices.get(device.id);
      devices.set(device.id, device);
      return previous;
    },
  };
}

function condition(deviceId: string, patch: Partial<Condition> = {}): Condition {
  return {
    siteId: 'demo-site',
    deviceId,
    agentId: 'gw-01',
    kind: 'camera',
    fault: 'device-down',
    condition: 'device-down:camera',
    title: message('text', { text: `${deviceId} down` }),
    text: message('text', { text: 'no answer' }),
    since: Date.parse('2026-12-07T06:00:00.000Z'),
    heldUntil: 0,
    covers: [],
    ticketed: true,
    ...patch,
  };
}

export function detectStateSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let store: DetectStateStore;
  const clock = { now: new Date('2026-12-07T06:00:05.000Z') };

  beforeEach(async () => {
    db = await backend.open();
    store = new DetectStateStore(db);
    await store.start();
  });

  const detectorOn = async (
    database: SqlDatabase,
    onStateError?: (error: unknown) => void,
    retryMs = 20,
  ) => {
    const detector = new Detector({
      registry: registry(),
      state: new DetectStateStore(database),
      now: () => clock.now,
      retryMs,
      ...(onStateError ? { onStateError } : {}),
    });
    await detector.start();
    return detector;
  };

  it('loads what was saved: conditions, failure times and agents, through another connection', async () => {
    await store.save({
      conditions: [condition('cam-01'), condition('cam-02', { ticketed: false })],
      failures: new Map([['demo-site|cam-01', [1, 2, 3]]]),
      agents: [
        { siteId: 'demo-site', agentId: 'gw-01', online: false, lastSeen: 0, reason: 'shutdown' },
      ],
    });
    const other = new DetectStateStore(await backend.reopen(db));
    await other.start();
    const loaded = await other.load();
    expect(loaded.conditions.map((c) => [c.deviceId, c.ticketed])).toEqual(
      expect.arrayContaining([
        ['cam-01', true],
        ['cam-02', false],
      ]),
    );
    expect(loaded.conditions).toHaveLength(2);
    expect(loaded.failures).toEqual(new Map([['demo-site|cam-01', [1, 2, 3]]]));
    expect(loaded.agents).toEqual([expect.objectContaining({ agentId: 'gw-01', online: false })]);
  });

  it('writes only what changed, and deletes what is gone', async () => {
    await store.save({
      conditions: [condition('cam-01'), condition('cam-02')],
      failures: new Map(),
      agents: [],
    });
    await store.save({
      conditions: [condition('cam-02', { covers: ['cam-03'] })],
      failures: new Map(),
      agents: [],
    });
    const rows = await db.all<{ key: string; body: string }>(
      'SELECT key, body FROM detect_conditions',
    );
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.body)).toMatchObject({ deviceId: 'cam-02', covers: ['cam-03'] });
  });

  it('saves many rows at once (a fleet reconnecting) in one save', async () => {
    const agents = Array.from({ length: 1200 }, (_, i) => ({
      siteId: `site-${i}`,
      agentId: 'gw-01',
      online: true,
      lastSeen: 0,
      reason: '',
    }));
    await store.save({ conditions: [], failures: new Map(), agents });
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM detect_agents'))?.n).toBe(1200);
    // The agents saved are the changed ones (DetectorSnapshot): none changed, none forgotten.
    await store.save({ conditions: [], failures: new Map(), agents: [] });
    expect((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM detect_agents'))?.n).toBe(1200);
    // One went offline: its row follows, the others stay.
    await store.save({
      conditions: [],
      failures: new Map(),
      agents: [{ ...agents[7]!, online: false, reason: 'connection-lost' }],
    });
    const loaded = await new DetectStateStore(db).load();
    expect(loaded.agents).toHaveLength(1200);
    expect(loaded.agents.filter((a) => !a.online)).toEqual([
      expect.objectContaining({ siteId: 'site-7', reason: 'connection-lost' }),
    ]);
  });

  it('a detector started on another connection (the standby taking over) goes on from what the first decided', async () => {
    const first = await detectorOn(db);
    // The first message after a start resolves a site ticket of a previous run: not what this looks at.
    first.agentSeen('demo-site', 'gw-01');
    first.take();
    first.deviceChanged(camera('cam-01'), down('cam-01'));
    expect(first.take()).toEqual([expect.objectContaining({ kind: 'fault', deviceId: 'cam-01' })]);
    await first.saved();

    const second = await detectorOn(await backend.reopen(db));
    second.deviceChanged(down('cam-01'), camera('cam-01'));
    expect(second.take()).toEqual([
      expect.objectContaining({ kind: 'fault-cleared', deviceId: 'cam-01' }),
    ]);
    second.deviceChanged(camera('cam-02'), down('cam-02'));
    expect(second.take()).toEqual([expect.objectContaining({ kind: 'fault', deviceId: 'cam-02' })]);
    await second.saved();

    // The first node takes the lead back: reload() takes what the second decided, so
    // cam-02's ticket is known (no second one) and cam-01's is over (a new failure opens one).
    await first.reload();
    first.deviceChanged(camera('cam-02'), down('cam-02'));
    first.deviceChanged(camera('cam-01'), down('cam-01'));
    expect(first.take()).toEqual([expect.objectContaining({ kind: 'fault', deviceId: 'cam-01' })]);
    await first.stop();
    await second.stop();
  });

  it('a save that fails is said and tried again; saved() waits for the one that commits', async () => {
    let failing = 2;
    const flaky: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
      transaction: <T>(work: Parameters<SqlDatabase['transaction']>[0]): Promise<T> => {
        if (failing-- > 0) return Promise.reject(new Error('database gone'));
        return db.transaction(work) as Promise<T>;
      },
    });
    const errors: string[] = [];
    const detector = await detectorOn(flaky, (error) => errors.push((error as Error).message));
    detector.agentSeen('demo-site', 'gw-01');
    detector.deviceChanged(camera('cam-01'), down('cam-01'));
    await detector.saved();
    expect(errors).toEqual(['database gone', 'database gone']);
    const loaded = await new DetectStateStore(await backend.reopen(db)).load();
    expect(loaded.conditions.map((c) => c.deviceId)).toEqual(['cam-01']);
    await detector.stop();
  });

  it('stops without waiting out a retry: one more attempt', async () => {
    let attempts = 0;
    const gone: SqlDatabase = Object.assign(Object.create(db) as SqlDatabase, {
      transaction: () => {
        attempts++;
        return Promise.reject(new Error('database gone'));
      },
    });
    const detector = await detectorOn(gone, () => {}, 60_000);
    detector.agentSeen('demo-site', 'gw-01');
    detector.deviceChanged(camera('cam-01'), down('cam-01'));
    while (attempts === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await detector.stop();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(attempts).toBe(2);
  });
}
