/**
 * The retention-short rule through the broker's own pipeline (decode, validate, dedupe,
 * track-state, store-metrics, detect, ticket) on a real SQLite file: an NVR's reading
 * `retentionDays` below the site's `retentionGoalDays` opens one general ticket, the readings
 * between the hourly measurements change nothing, and a reading a day above the goal
 * (RESOLVE_MARGIN_DAYS) resolves it, across a broker restart too.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceMetrics } from '../../../../shared/messages/device-metrics.js';
import { topics } from '../../../../shared/topics.js';
import { say } from '../../../../shared/wording/render.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { camera, makeDesk, type DeskFixture } from './desk-fixture.js';

const site = 'demo-site';
const nvr = camera('nvr-01', { kind: 'nvr', name: 'Recorder' });

describe('retention below the contract', () => {
  let f: DeskFixture;
  let seq = 100_000;

  beforeEach(async () => {
    f = await makeDesk({}, [nvr, camera('cam-01')]);
    await f.desk.sites.put(site, { retentionGoalDays: 30 });
    f.agentOnline();
  });

  afterEach(async () => {
    await f.cleanup();
  });

  /** One reading of the agent, as it publishes it (retentionDays only in the hourly one). */
  function reading(deviceId: string, values: Partial<DeviceMetrics['values']>): void {
    const metrics: DeviceMetrics = {
      v: 1,
      siteId: site,
      agentId: 'gw-01',
      seq: seq++,
      ts: f.clock.now.toISOString(),
      deviceId,
      kind: deviceId.startsWith('nvr') ? 'nvr' : 'camera',
      values: { up: true, recordingLagS: 1, recordingsStopped: 0, ...values },
    };
    f.desk.pipeline.feed({
      topic: topics.deviceMetrics(site, deviceId),
      payload: Buffer.from(JSON.stringify(metrics)),
      clientId: `${site}/gw-01`,
      agent: { siteId: site, agentId: 'gw-01' },
      receivedAt: f.clock.now,
    });
  }

  const open = async () => (await f.open()).filter((t) => t.fault === 'degraded:retention-short');

  it('opens one general ticket "recordings kept N days, the contract says M", in both languages', async () => {
    reading('nvr-01', { retentionDays: 12.4 });
    expect(await open()).toHaveLength(1);
    const ticket = (await open())[0]!;
    expect(ticket).toMatchObject({ deviceId: 'nvr-01', priority: 'general', status: 'open' });
    expect(ticket.title).toBe(
      'NVR "Recorder" (nvr-01): recordings kept 12.4 days, the contract says 30',
    );
    expect(say(ticket.titleMessage as Message, 'zh-CN')).toBe(
      '录像机“Recorder”（nvr-01）：录像仅保存 12.4 天，合同要求 30 天',
    );
    expect(ticket.timeline[0]?.text).toMatch(
      /shortest-kept channel is 12.4 days old; the contract says 30 days/,
    );
    expect(await f.deadLetters.list()).toEqual([]);
  });

  it('keeps it open through the polls between measurements, state changes and a lower reading', async () => {
    reading('nvr-01', { retentionDays: 12 });
    const id = (await open())[0]!.id;
    for (let i = 0; i < 5; i++) {
      await f.advance(15_000);
      reading('nvr-01', {});
    }
    // The device's own state (up, or degraded for something else) is not what this judges.
    f.report('nvr-01', 'degraded', {
      reasons: [{ code: 'clock-drift', message: 'clock 12 s off' }],
    });
    f.report('nvr-01', 'up');
    reading('nvr-01', { retentionDays: 11 });
    expect((await open()).map((t) => t.id)).toEqual([id]);
    expect((await f.open()).filter((t) => t.deviceId === 'nvr-01').map((t) => t.fault)).toEqual([
      'degraded:retention-short',
    ]);
  });

  it('resolves by itself at the first reading a day above the goal, saying so', async () => {
    reading('nvr-01', { retentionDays: 12 });
    await f.advance(3_600_000);
    reading('nvr-01', { retentionDays: 29.9 });
    expect(await open()).toHaveLength(1);
    // At the goal is not yet enough: a recorder sized just for it dips below every night.
    reading('nvr-01', { retentionDays: 30 });
    await f.advance(3_600_000);
    reading('nvr-01', { retentionDays: 30.5 });
    expect(await open()).toHaveLength(1);
    reading('nvr-01', { retentionDays: 31 });
    expect(await open()).toHaveLength(0);
    const ticket = (await f.all()).find((t) => t.fault === 'degraded:retention-short')!;
    expect(ticket.status).toBe('resolved');
    expect(ticket.timeline.at(-1)?.text).toBe(
      'Resolved automatically: recordings kept 31 days, the contract says 30',
    );
  });

  it("follows the site's goal: none below it, and a goal of 0 asks for nothing", async () => {
    await f.desk.sites.put(site, { retentionGoalDays: 10 });
    reading('nvr-01', { retentionDays: 12 });
    expect(await open()).toHaveLength(0);
    await f.desk.sites.put(site, { retentionGoalDays: 0 });
    reading('nvr-01', { retentionDays: 0.5 });
    expect(await open()).toHaveLength(0);
  });

  it('remembers the fault across a broker restart and still resolves it', async () => {
    reading('nvr-01', { retentionDays: 12 });
    expect(await open()).toHaveLength(1);
    await f.restart();
    f.agentOnline();
    reading('nvr-01', { retentionDays: 12 });
    expect(await open()).toHaveLength(1);
    reading('nvr-01', { retentionDays: 31 });
    expect(await open()).toHaveLength(0);
  });
});
