/**
 * An account that works for ONVIF but lacks live-view rights (the simulator's
 * live-view-refused fault: RTSP and snapshots answer 401 to the right credentials):
 * agent/poll.ts leaves only the stream and picture checks waiting, so a recorder that
 * stops recording is seen at the next poll, not at the next try of the live view.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SimRequestLogEntry } from '../../../shared/api/sim.js';
import type { SimSite } from '../../../sim/site.js';
import { ONVIF } from './harness.js';
import { codes, fakeClockSite, simPoller } from './sim-poller.js';

/** Seconds between two polls on the test's clock (the agent's default). */
const INTERVAL_S = 15;

let site: SimSite;
let stopSite: () => Promise<void>;

beforeAll(async () => {
  ({ site, stop: stopSite } = await fakeClockSite('live-view', [{ kind: 'nvr', channels: 2 }]));
});

afterAll(async () => {
  await stopSite();
});

afterEach(async () => {
  for (const device of site.devices()) await site.clearFaults(device.id);
});

describe('an account without live-view rights (live-view-refused)', () => {
  it('an NVR: streams and pictures wait, recordings and events are checked every poll', async () => {
    const id = site.devices()[0]!.id;
    await site.setFault(id, { kind: 'live-view-refused' });
    const device = simPoller(site, id, INTERVAL_S);
    const first = await device.poll();
    expect(codes(first.result)).toEqual(['auth-failed']);
    const said = first.result.ok ? first.result.degraded[0]!.message : '';
    expect(said).toMatch(/^live view refused to the monitoring account \(stream check: /);
    expect(said).not.toContain(ONVIF.password);
    // One refused DESCRIBE: not the NVR's second channel, not a snapshot.
    const media = (requests: SimRequestLogEntry[]) =>
      requests.filter((r) => r.protocol === 'rtsp' || r.protocol === 'snapshot');
    expect(media(first.requests).filter((r) => r.detail === 'no live-view rights')).toHaveLength(1);
    expect(media(first.requests).some((r) => r.protocol === 'snapshot')).toBe(false);

    // A recording stops: the next poll says so (it is no glitch: tried twice in a row).
    await site.setFault(id, { kind: 'recording-stopped', channel: 2 });
    const second = await device.poll();
    expect(codes(second.result)).toEqual(['auth-failed', 'recording-stopped']);
    expect(media(second.requests).filter((r) => r.detail === 'no live-view rights')).toHaveLength(
      1,
    );
    // From the third poll on, the live view waits; the recorder is still asked every poll.
    for (let poll = 0; poll < 3; poll++) {
      const { result, requests } = await device.poll();
      expect(codes(result)).toEqual(['auth-failed', 'recording-stopped']);
      expect(
        result.ok && result.degraded.find((r) => r.code === 'recording-stopped')?.channel,
      ).toBe('REC_CH02');
      expect(media(requests)).toEqual([]);
      const operations = requests.filter((r) => r.protocol === 'soap').map((r) => r.operation);
      expect(operations).toEqual(
        expect.arrayContaining(['GetDeviceInformation', 'FindRecordings', 'PullMessages']),
      );
    }
    expect(device.memory.refused).toBeNull();
  });
});
