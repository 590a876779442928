/**
 * Every health check against the simulator over real sockets: healthy, and with each
 * fault of sim/faults.ts that the check is there to notice. Devices of several
 * personalities (sim/personality.ts) bring the quirks of real ones: no GetServices,
 * zone-less times and HTTP 401 (legacy camera), encoders without Resolution and
 * hyphenated times (budget NVR).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults, type ChecksConfig } from '../../../agent/config.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { runChecks, type PollResult } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';
import type { SimFault } from '../../../shared/api/sim.js';
import { SimSite } from '../../../sim/site.js';
import { ONVIF, SITE } from './harness.js';

let site: SimSite;

beforeAll(async () => {
  site = new SimSite({
    siteId: SITE,
    credentials: ONVIF,
    devices: [
      { kind: 'camera', channels: 1 },
      { kind: 'camera', channels: 1, personality: 'legacy-camera' },
      { kind: 'nvr', channels: 3 },
      { kind: 'nvr', channels: 2, personality: 'budget-nvr' },
      // A view where nothing moves and no clock is drawn: only its sensor noise changes.
      { kind: 'camera', channels: 1, scene: 'static' },
    ],
  });
  await site.start();
});

afterAll(async () => {
  await site.stop();
});

afterEach(async () => {
  for (const device of site.devices()) await site.clearFaults(device.id);
});

const camera = (): string => site.devices().find((d) => d.kind === 'camera')!.id;
/** The camera of the static scene: the last one of the layout. */
const stillCamera = (): string =>
  site
    .devices()
    .filter((d) => d.kind === 'camera')
    .at(-1)!.id;
const nvr = (): string => site.devices().find((d) => d.kind === 'nvr')!.id;

interface Probe {
  poll(): Promise<PollResult>;
  memory: DeviceMemory;
}

function probe(
  id: string,
  settings: Partial<ChecksConfig> = {},
  timeoutMs = 1500,
  intervalS = 1,
): Probe {
  const info = site.device(id)!;
  const client = new OnvifDeviceClient(
    { xaddr: info.xaddr, username: ONVIF.username, password: new Secret(ONVIF.password) },
    { timeoutMs },
  );
  const memory = new DeviceMemory();
  return {
    memory,
    poll: () =>
      runChecks(checks, {
        device: { id, name: info.name, kind: info.kind, xaddr: info.xaddr },
        client,
        signal: new AbortController().signal,
        settings: { ...checkDefaults, ...settings },
        memory,
        now: Date.now,
        intervalS,
      }),
  };
}

async function fault(id: string, f: SimFault): Promise<void> {
  await site.setFault(id, f);
}

const codes = (result: PollResult): string[] =>
  result.ok ? result.degraded.map((r) => r.code) : [`down:${result.failure.code}`];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a healthy site', () => {
  it('every device of every personality is up, with every reading', async () => {
    for (const device of site.devices()) {
      const result = await probe(device.id).poll();
      expect(codes(result), device.id).toEqual([]);
      const v = result.values;
      expect(v.up).toBe(true);
      expect(v.responseMs).toBeGreaterThan(0);
      expect(Math.abs(v.clockOffsetS ?? 99)).toBeLessThan(2);
      expect(v.channels, device.id).toBe(
        device.kind === 'camera' ? 1 : device.id.endsWith('01') ? 3 : 2,
      );
      expect(v.streamsUp).toBe(v.channels);
      expect(v.picturesOk).toBe(v.channels);
      expect(v.pictureLuma).toBeGreaterThan(16);
      if (device.kind === 'nvr') {
        expect(v.recordingLagS).toBeLessThan(30);
        expect(v.recordingsStopped).toBe(0);
        expect(v.storages).toBe(1);
      }
      expect(v.events).toBeGreaterThanOrEqual(0);
      expect(result.identity?.serialNumber).toBeTruthy();
    }
  });
});

describe('a device whose password was changed (auth-changed)', () => {
  it('is degraded with auth-failed, not down, on both fault styles (400 and 401)', async () => {
    for (const id of site
      .devices()
      .filter((d) => d.kind === 'camera')
      .map((d) => d.id)) {
      await fault(id, { kind: 'auth-changed', password: 'someone-else-knows' });
      const result = await probe(id).poll();
      expect(codes(result), id).toEqual(['auth-failed']);
      // It answered its clock, and nothing that needs credentials was held against it.
      expect(result.values, id).toMatchObject({ up: true, responseMs: expect.any(Number) });
      expect(result.values.streamsUp, id).toBeUndefined();
      const said = result.ok ? result.degraded[0]!.message : '';
      expect(said, id).toMatch(/^monitoring credentials rejected/);
      expect(said, id).not.toContain(ONVIF.password);
    }
  });

  it('then switched off: down, unreachable (the check without credentials still runs)', async () => {
    const id = camera();
    const device = probe(id);
    await fault(id, { kind: 'auth-changed', password: 'someone-else-knows' });
    expect(codes(await device.poll())).toEqual(['auth-failed']);
    await fault(id, { kind: 'offline' });
    expect(codes(await device.poll())).toEqual(['down:unreachable']);
    // Back on, password still changed: degraded again, not up.
    await site.clearFaults(id);
    await fault(id, { kind: 'auth-changed', password: 'someone-else-knows' });
    expect(codes(await device.poll())).toEqual(['auth-failed']);
  });

  it('asks the device with credentials once a poll, then more rarely (account lockouts)', async () => {
    const id = camera();
    const device = probe(id, {}, 1500, 60);
    await fault(id, { kind: 'auth-changed', password: 'someone-else-knows' });
    // Every refusal, whatever the protocol: SOAP (400 NotAuthorized or 401), RTSP, snapshots.
    const refusedLogins = () =>
      site.requests(id).filter((r) => r.status === 400 || r.status === 401).length;
    const before = refusedLogins();
    for (let poll = 0; poll < 4; poll++) await device.poll();
    // One refused login in the first poll (it ends the credentialed checks: no GetProfiles,
    // no RTSP, no snapshot); the next polls, within half the 60 s interval, wait.
    expect(refusedLogins() - before).toBe(1);
  });
});

describe('faults that take a device down', () => {
  it('offline: unreachable', async () => {
    await fault(camera(), { kind: 'offline' });
    expect(codes(await probe(camera()).poll())).toEqual(['down:unreachable']);
  });

  it('hang: timeout, within the request deadline', async () => {
    await fault(camera(), { kind: 'hang' });
    const started = Date.now();
    expect(codes(await probe(camera(), {}, 400).poll())).toEqual(['down:timeout']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('malformed answers: protocol-error', async () => {
    await fault(camera(), { kind: 'malformed' });
    expect(codes(await probe(camera()).poll())).toEqual(['down:protocol-error']);
  });
});

describe('faults that degrade a device', () => {
  it('clock-drift beyond the threshold', async () => {
    await fault(camera(), { kind: 'clock-drift', offsetS: 600 });
    const result = await probe(camera()).poll();
    expect(codes(result)).toEqual(['clock-drift']);
    expect(result.values.clockOffsetS).toBeGreaterThan(590);
  });

  it('slow answers beyond slowResponseMs', async () => {
    await fault(camera(), { kind: 'slow', delayMs: 300 });
    const result = await probe(camera(), {
      slowResponseMs: 150,
      picture: false,
      stream: false,
    }).poll();
    expect(codes(result)).toEqual(['slow-response']);
  });

  it('replaced (new serial at the same address) and firmware-changed', async () => {
    const p = probe(camera(), { picture: false, stream: false });
    expect(codes(await p.poll())).toEqual([]);
    await fault(camera(), { kind: 'firmware-changed', firmwareVersion: '9.9.9 build 270101' });
    const updated = await p.poll();
    expect(codes(updated)).toEqual(['firmware-changed']);
    expect(updated.ok && updated.degraded[0]?.message).toMatch(/9\.9\.9/);
    await fault(camera(), { kind: 'replaced', serialNumber: 'NEW-SERIAL-0001' });
    const replaced = await p.poll();
    expect(codes(replaced)).toEqual(['firmware-changed', 'device-replaced']);
    expect(replaced.identity?.serialNumber).toBe('NEW-SERIAL-0001');
  });

  it('stream-down on one NVR channel', async () => {
    await fault(nvr(), { kind: 'stream-down', channel: 2 });
    const result = await probe(nvr(), { picture: false }).poll();
    expect(codes(result)).toEqual(['stream-down']);
    expect(result.values.streamsUp).toBe(2);
    expect(result.ok && result.degraded[0]?.channel).toBeTruthy();
  });

  it('black and covered pictures', async () => {
    await fault(camera(), { kind: 'snapshot-black' });
    expect(codes(await probe(camera(), { stream: false }).poll())).toEqual(['picture-black']);
    await site.clearFaults(camera());
    await fault(camera(), { kind: 'snapshot-covered' });
    expect(codes(await probe(camera(), { stream: false }).poll())).toEqual(['picture-covered']);
  });

  it('a frozen picture after frozenPolls polls, and a live one never', async () => {
    const live = probe(camera(), { stream: false, frozenPolls: 2 });
    expect(codes(await live.poll())).toEqual([]);
    // The simulator draws a live picture at most once a second.
    await sleep(1100);
    expect(codes(await live.poll())).toEqual([]);

    await fault(camera(), { kind: 'snapshot-frozen' });
    const frozen = probe(camera(), { stream: false, frozenPolls: 3 });
    expect(codes(await frozen.poll())).toEqual([]);
    await sleep(1100);
    expect(codes(await frozen.poll())).toEqual([]);
    await sleep(1100);
    expect(codes(await frozen.poll())).toEqual(['picture-frozen']);
  });

  // Quick settings: 3 pictures learned, then 2 polls in a row (1 s apart, a new frame each).
  const quick = { stream: false, frozenPolls: 2, blurBaselinePolls: 3, blurPolls: 2 };

  it('a static scene without a clock is live: neither frozen nor blurred, poll after poll', async () => {
    const still = probe(stillCamera(), quick);
    for (let i = 0; i < 6; i++) {
      if (i > 0) await sleep(1100);
      const result = await still.poll();
      expect(codes(result), `poll ${i}`).toEqual([]);
      expect(result.values.pictureSharpness).toBeGreaterThan(0);
    }
    expect(still.memory.pictures.values().next().value?.baseline?.learned).toBe(6);
    // The same camera stuck on one frame (a second after the last poll's, so the first
    // frozen picture is new to the agent): frozen, and not called blurred besides.
    await sleep(1100);
    await fault(stillCamera(), { kind: 'snapshot-frozen' });
    expect(codes(await still.poll())).toEqual([]);
    await sleep(1100);
    expect(codes(await still.poll())).toEqual(['picture-frozen']);
  });

  it('a blurred picture once the camera taught the agent its usual sharpness, and only then', async () => {
    // Blurred from the first picture on: learned as this camera's usual, never reported.
    await fault(camera(), { kind: 'picture-blurred' });
    const early = probe(camera(), quick);
    for (let i = 0; i < 5; i++) {
      if (i > 0) await sleep(1100);
      expect(codes(await early.poll()), `poll ${i}`).toEqual([]);
    }
    await site.clearFaults(camera());

    const p = probe(camera(), quick);
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1100);
      expect(codes(await p.poll())).toEqual([]);
    }
    const sharp = p.memory.pictures.values().next().value?.baseline?.usual ?? 0;
    expect(sharp).toBeGreaterThan(0);
    await fault(camera(), { kind: 'picture-blurred' });
    await sleep(1100);
    const first = await p.poll();
    expect(codes(first)).toEqual([]); // one low poll is not yet blurPolls
    expect(first.values.picturesOk).toBe(1);
    await sleep(1100);
    const second = await p.poll();
    expect(codes(second)).toEqual(['picture-blurred']);
    expect(second.values.picturesOk).toBe(0);
    expect(second.values.pictureSharpness).toBeLessThan(sharp * 0.4);
    expect(second.ok && second.degraded[0]?.message).toMatch(
      /blurred picture: sharpness .* % of its usual/,
    );
    // Focused again: fine at the next poll, and the usual was hardly lowered by the blur
    // (a low picture teaches 0.2 % a poll, an ordinary one below the usual 1 %:
    // agent/picture.ts SETTLE and FALL).
    await site.clearFaults(camera());
    await sleep(1100);
    expect(codes(await p.poll())).toEqual([]);
    expect(p.memory.pictures.values().next().value?.baseline?.usual).toBeGreaterThanOrEqual(
      sharp * 0.98,
    );
  });

  it('recording stopped on one NVR channel, and only there', async () => {
    await fault(nvr(), { kind: 'recording-stopped', channel: 1 });
    await sleep(2500);
    const result = await probe(nvr(), { recordingLagS: 2, picture: false, stream: false }).poll();
    expect(codes(result)).toEqual(['recording-stopped']);
    expect(result.values.recordingsStopped).toBe(1);
    // Found by the lag and by the job's state: one reason that says both.
    const [reason] = result.ok ? result.degraded : [];
    expect(reason?.channel).toBe('REC_CH01');
    expect(reason?.message).toMatch(
      /^.*channel 1: newest recording \d+ s old .*; recording job JOB_CH01 is Idle though set to record$/,
    );
  });

  it("recording stopped is seen at once from the job's state, before the recording lags", async () => {
    const p = probe(nvr(), { picture: false, stream: false });
    expect(codes(await p.poll())).toEqual([]);
    expect(site.requests(nvr()).map((r) => r.operation)).toEqual(
      expect.arrayContaining(['GetRecordingJobs', 'GetRecordingJobState']),
    );
    await fault(nvr(), { kind: 'recording-stopped', channel: 2 });
    const result = await p.poll();
    expect(result.ok ? result.degraded : []).toEqual([
      {
        code: 'recording-stopped',
        channel: 'REC_CH02',
        message: expect.stringMatching(
          /channel 2: recording job JOB_CH02 is Idle though set to record; newest recording \d+ s old \(limit 120 s, status Stopped\)$/,
        ),
      },
    ]);
    expect(result.values.recordingsStopped).toBe(1);
    await site.clearFaults(nvr());
    expect(codes(await p.poll())).toEqual([]);
  });

  it('a full disk stops every job (state Error): each channel reported once', async () => {
    const p = probe(nvr(), { picture: false, stream: false });
    await fault(nvr(), { kind: 'storage-full' });
    await sleep(200);
    const result = await p.poll();
    const stopped = result.ok ? result.degraded.filter((r) => r.code === 'recording-stopped') : [];
    expect(stopped.map((r) => r.channel)).toEqual(['REC_CH01', 'REC_CH02', 'REC_CH03']);
    for (const reason of stopped)
      expect(reason.message).toMatch(/is Error though set to record: storage full/);
    expect(result.values.recordingsStopped).toBe(3);
  });

  it('ONVIF events: video loss, tampering and storage failure, and their end', async () => {
    const p = probe(nvr(), { picture: false, stream: false });
    expect(codes(await p.poll())).toEqual([]);
    await fault(nvr(), { kind: 'video-loss', channel: 1 });
    await fault(nvr(), { kind: 'tamper', channel: 2 });
    await fault(nvr(), { kind: 'storage-failure' });
    await sleep(200);
    const during = codes(await p.poll());
    expect(during).toEqual(expect.arrayContaining(['video-loss', 'tampering', 'storage-failure']));
    await site.clearFaults(nvr());
    await sleep(200);
    expect(codes(await p.poll())).toEqual([]);
  });

  it('keeps its event subscription across a device reboot', async () => {
    const p = probe(camera(), { picture: false, stream: false }, 800);
    expect(codes(await p.poll())).toEqual([]);
    const before = p.memory.pullPoint?.address;
    expect(before).toBeTruthy();
    await fault(camera(), { kind: 'reboot', downS: 0.5 });
    await sleep(1500);
    // The first poll after the reboot may still see it down; one more finds it back.
    let result = await p.poll();
    if (!result.ok) result = await p.poll();
    await fault(camera(), { kind: 'video-loss' });
    await sleep(200);
    expect(codes(await p.poll())).toContain('video-loss');
    expect(p.memory.pullPoint?.address).toBeTruthy();
  });
});
