import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../../broker/db.js';
import { SqliteOutageHistory } from '../../../../broker/devices/outages.js';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import type { Reason } from '../../../../shared/messages/device-state.js';

const DAY = 86_400_000;
const nvr = (status: Device['status'], reasons: Reason[]): Device => ({
  ...deviceExample,
  id: 'nvr-01',
  kind: 'nvr',
  status,
  reasons,
});
const stopped = (channel: string): Reason => ({ code: 'recording-stopped', message: 'm', channel });

describe('the outage history in SQLite', () => {
  let dir: string;
  let db: Db;
  let clock: number;
  let history: SqliteOutageHistory;
  const iso = (ms: number) => new Date(ms).toISOString();
  const all = () =>
    history.spans('demo-site', 'nvr-01', ['recording-stopped'], iso(0), iso(clock + DAY));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-outages-'));
    db = openDatabase(join(dir, 'vigil.db'));
    clock = Date.parse('2027-01-01T00:00:00Z');
    history = new SqliteOutageHistory(db, { retentionDays: 10, now: () => clock });
    history.start();
  });

  afterEach(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prunes spans past the retention at most once an hour while recording', () => {
    const up = nvr('up', []);
    const ch1 = nvr('degraded', [stopped('REC_CH01')]);
    history.record(up, ch1, iso(clock - 20 * DAY));
    history.record(ch1, up, iso(clock - 15 * DAY)); // ended 15 days ago: past 10 days
    expect(all()).toHaveLength(1);
    // Within the hour after start()'s prune: kept for now.
    clock += 30 * 60_000;
    history.record(up, nvr('degraded', [stopped('REC_CH02')]), iso(clock));
    expect(all()).toHaveLength(2);
    clock += 31 * 60_000;
    history.record(nvr('degraded', [stopped('REC_CH02')]), up, iso(clock));
    expect(all().map((s) => s.channel)).toEqual(['REC_CH02']);
  });

  it('never ends a span before it began (a message older than the span, out of order)', () => {
    const up = nvr('up', []);
    const ch1 = nvr('degraded', [stopped('REC_CH01')]);
    history.record(up, ch1, iso(clock));
    history.record(ch1, up, iso(clock - 60_000));
    expect(all()).toEqual([expect.objectContaining({ started: iso(clock), ended: iso(clock) })]);
  });

  it('keeps a channel span open while the device is down, closes the down reason when it changes', () => {
    const ch1 = nvr('degraded', [stopped('REC_CH01')]);
    const down = nvr('down', [{ code: 'timeout', message: 'no answer' }]);
    history.record(undefined, ch1, iso(clock));
    history.record(ch1, down, iso(clock + 60_000));
    history.record(
      down,
      nvr('down', [{ code: 'unreachable', message: 'refused' }]),
      iso(clock + 120_000),
    );
    expect(all()).toEqual([expect.objectContaining({ channel: 'REC_CH01', ended: null })]);
    const downs = history.spans(
      'demo-site',
      'nvr-01',
      ['timeout', 'unreachable'],
      iso(0),
      iso(clock + DAY),
    );
    expect(downs.map((s) => [s.code, s.ended])).toEqual([
      ['timeout', iso(clock + 120_000)],
      ['unreachable', null],
    ]);
  });
});
