import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { recording } from '../../../agent/checks/recording.js';
import jpeg from 'jpeg-js';
import { DeviceMemory, type Check, type CheckContext } from '../../../agent/checks/types.js';
import { checkDefaults, type ChecksConfig } from '../../../agent/config.js';
import {
  OnvifError,
  type OnvifClient,
  type RecordingInfo,
  type RecordingJob,
} from '../../../agent/onvif/types.js';
import { DeviceState } from '../../../agent/device-state.js';
import { runChecks } from '../../../agent/poll.js';

const CHECKS_DIR = fileURLToPath(new URL('../../../agent/checks/', import.meta.url));
/** Files of the folder that are not checks. */
const NOT_CHECKS = new Set(['index.ts', 'types.ts', 'turns.ts']);

function isCheck(value: unknown): value is Check {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Check).name === 'string' &&
    typeof (value as Check).run === 'function'
  );
}

describe('the list of checks', () => {
  it('holds every check of agent/checks/, each once', async () => {
    const files = (await readdir(CHECKS_DIR)).filter(
      (f) => f.endsWith('.ts') && !NOT_CHECKS.has(f),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const module = (await import(`${CHECKS_DIR}${file}`)) as Record<string, unknown>;
      const found = Object.values(module).filter(isCheck);
      expect(found, `${file} exports no check`).not.toHaveLength(0);
      for (const check of found) {
        expect(checks, `${file}: check "${check.name}" is missing from checks/index.ts`).toContain(
          check,
        );
      }
    }
    expect(new Set(checks.map((c) => c.name)).size).toBe(checks.length);
  });

  it('runs reachable first: it needs no credentials and aligns the clock for the others', () => {
    expect(checks[0]?.name).toBe('reachable');
  });
});

const identity = {
  manufacturer: 'M',
  model: 'X',
  firmwareVersion: '1',
  serialNumber: 'S',
  hardwareId: 'H',
};

/** A 64x48 picture with detail: a gradient plus stripes. */
function livePicture(): Buffer {
  const width = 64;
  const height = 48;
  const data = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const v = ((i % width) * 4 + (Math.floor(i / width) % 8 < 4 ? 60 : 0)) % 256;
    data.writeUInt32BE(((v << 24) | (v << 16) | (v << 8) | 0xff) >>> 0, i * 4);
  }
  return jpeg.encode({ data, width, height }, 90).data;
}

function fakeClient(overrides: Partial<OnvifClient> = {}): OnvifClient {
  return {
    clock: async () => ({ deviceUtc: new Date(), offsetMs: -812.4, responseMs: 12.345 }),
    deviceInformation: async () => identity,
    profiles: async () => ({ count: 3 }),
    channels: async () => [
      {
        profileToken: 'p1',
        sourceToken: 'vs1',
        name: 'Main',
        encoding: 'H264',
        width: null,
        height: null,
        profiles: 3,
      },
    ],
    streamUri: async () => 'rtsp://192.0.2.1/p1',
    snapshotUri: async () => 'http://192.0.2.1/snap/p1.jpg',
    describe: async () => 200,
    snapshot: async () => livePicture(),
    recordings: async () => null,
    recordingJobs: async () => null,
    storage: async () => [],
    createPullPoint: async () => 'http://192.0.2.1/pull/1',
    pullMessages: async () => [],
    renew: async () => undefined,
    unsubscribe: async () => undefined,
    ...overrides,
  };
}

function contextFor(client: OnvifClient, settings: Partial<ChecksConfig> = {}): CheckContext {
  return {
    device,
    client,
    signal,
    settings: { ...checkDefaults, ...settings },
    memory: new DeviceMemory(),
    now: Date.now,
    intervalS: 15,
  };
}

const device = {
  id: 'cam-01',
  name: 'Lobby',
  kind: 'camera' as const,
  xaddr: 'http://192.0.2.1/onvif/device_service',
};
const signal = new AbortController().signal;

describe('one poll', () => {
  it('merges the readings of every check', async () => {
    const result = await runChecks(checks, contextFor(fakeClient()));
    expect(result).toEqual({
      ok: true,
      values: {
        up: true,
        responseMs: 12.3,
        clockOffsetS: -0.812,
        profiles: 3,
        channels: 1,
        streamsUp: 1,
        picturesOk: 1,
        pictureLuma: expect.any(Number),
        pictureSharpness: expect.any(Number),
        events: 0,
      },
      identity,
      degraded: [],
    });
  });

  it('stops at the first failure and names its reason', async () => {
    let asked = false;
    const client = fakeClient({
      deviceInformation: async () => {
        throw new OnvifError('protocol-error', 'no GetDeviceInformationResponse in the answer');
      },
      channels: async () => {
        asked = true;
        return [];
      },
    });
    const result = await runChecks(checks, contextFor(client));
    expect(result).toEqual({
      ok: false,
      values: { up: false, responseMs: 12.3, clockOffsetS: -0.812 },
      failure: { code: 'protocol-error', message: 'no GetDeviceInformationResponse in the answer' },
    });
    expect(asked).toBe(false);
  });

  it('leaves the clock offset out when the device gave no usable clock', async () => {
    const client = fakeClient({
      clock: async () => ({ deviceUtc: null, offsetMs: null, responseMs: 4 }),
    });
    const result = await runChecks(checks, contextFor(client));
    expect(result.values).toMatchObject({ up: true, responseMs: 4, profiles: 3 });
    expect(result.values.clockOffsetS).toBeUndefined();
  });

  it("gives an NVR's state every recording, once, and a camera's none", async () => {
    const at = Date.now();
    const found = (n: number): RecordingInfo => ({
      token: `REC_CH0${n}`,
      source: `Recorder channel ${n}`,
      latest: new Date(at - 1000),
      status: 'Recording',
    });
    const nvr = { ...device, id: 'nvr-01', kind: 'nvr' as const };
    let order = [1, 2, 3, 4];
    const client = fakeClient({
      recordings: async () => order.map(found),
      recordingJobs: async () => null,
      storage: async () => [],
    });
    const context = { ...contextFor(client), device: nvr };
    const state = new DeviceState();
    const first = state.record(await runChecks(checks, context));
    expect(first.change?.recordings).toEqual(
      [1, 2, 3, 4].map((n) => ({
        token: `REC_CH0${n}`,
        source: `Recorder channel ${n}`,
      })),
    );
    // The recorder answers in another order: nothing to publish.
    order = [4, 2, 1, 3];
    expect(state.record(await runChecks(checks, context)).change).toBeNull();
    // A recording added on the recorder: a new state with it.
    order = [1, 2, 3, 4, 5];
    const added = state.record(await runChecks(checks, context));
    expect(added.change?.recordings?.map((r) => r.token)).toEqual([
      'REC_CH01',
      'REC_CH02',
      'REC_CH03',
      'REC_CH04',
      'REC_CH05',
    ]);

    const camera = new DeviceState();
    const result = await runChecks(checks, contextFor(fakeClient()));
    expect(result).not.toHaveProperty('recordings');
    expect(camera.record(result).change).not.toHaveProperty('recordings');
  });

  it('lets a bug (not a device failure) escape, so it is counted as a check error', async () => {
    const client = fakeClient({
      channels: async () => {
        throw new TypeError('undefined is not a function');
      },
    });
    await expect(runChecks(checks, contextFor(client))).rejects.toThrow(TypeError);
  });
});

describe('the recording check', () => {
  const at = Date.parse('2026-11-26T08:00:00Z');
  const nvr = { ...device, id: 'nvr-01', kind: 'nvr' as const };
  const rec = (n: number, ageS: number): RecordingInfo => ({
    token: `REC_CH0${n}`,
    source: `Recorder channel ${n}`,
    latest: new Date(at - ageS * 1000),
    status: 'Recording',
  });
  const job = (n: number, state: string, mode = 'Active', errors: string[] = []): RecordingJob => ({
    token: `JOB_CH0${n}`,
    recordingToken: `REC_CH0${n}`,
    mode,
    state,
    errors,
  });
  const run = (client: Partial<OnvifClient>) =>
    recording.run({ ...contextFor(fakeClient(client)), device: nvr, now: () => at });

  it('reports a job told to record but Idle or in Error, before the recording lags', async () => {
    const result = await run({
      recordings: async () => [rec(1, 1), rec(2, 1), rec(3, 1)],
      recordingJobs: async () => [
        job(1, 'Idle'),
        job(2, 'Error', 'Active', ['storage full']),
        job(3, 'Active'),
      ],
    });
    expect(result.degraded).toEqual([
      {
        code: 'recording-stopped',
        channel: 'REC_CH01',
        message:
          'Recorder channel 1: recording job JOB_CH01 is Idle though set to record; newest recording 1 s old (limit 120 s, status Recording)',
      },
      {
        code: 'recording-stopped',
        channel: 'REC_CH02',
        message:
          'Recorder channel 2: recording job JOB_CH02 is Error though set to record: storage full; newest recording 1 s old (limit 120 s, status Recording)',
      },
    ]);
    expect(result.values).toEqual({ recordingLagS: 1, recordingsStopped: 2 });
  });

  it('reports a channel once when it lags and its job stopped, saying both', async () => {
    const result = await run({
      recordings: async () => [rec(1, 600)],
      recordingJobs: async () => [job(1, 'Idle')],
    });
    expect(result.degraded).toEqual([
      {
        code: 'recording-stopped',
        channel: 'REC_CH01',
        message:
          'Recorder channel 1: newest recording 600 s old (limit 120 s, status Recording); recording job JOB_CH01 is Idle though set to record',
      },
    ]);
  });

  it('leaves alone a job switched off on purpose, or one with another job recording', async () => {
    const result = await run({
      recordings: async () => [rec(1, 1), rec(2, 1)],
      recordingJobs: async () => [
        job(1, 'Idle', 'Idle'),
        job(2, 'Idle'),
        { ...job(2, 'Active'), token: 'JOB_B' },
      ],
    });
    expect(result.degraded).toEqual([]);
  });

  it('judges by the search alone when recording control fails', async () => {
    const result = await run({
      recordings: async () => [rec(1, 1)],
      recordingJobs: async () => {
        throw new OnvifError('protocol-error', 'ter:ActionNotSupported');
      },
    });
    expect(result).toEqual({
      values: { recordingLagS: 1, recordingsStopped: 0 },
      degraded: [],
      recordings: [{ token: 'REC_CH01', source: 'Recorder channel 1' }],
    });
  });

  it('lists every recording, clean ones included, in token order whatever the search order', async () => {
    const ch10: RecordingInfo = { ...rec(1, 1), token: 'REC_CH10', source: '' };
    const first = await run({
      recordings: async () => [rec(3, 1), ch10, rec(2, 600), rec(1, 1)],
      recordingJobs: async () => null,
    });
    const again = await run({
      recordings: async () => [rec(1, 1), rec(2, 600), ch10, rec(3, 1)],
      recordingJobs: async () => null,
    });
    expect(first.recordings).toEqual([
      { token: 'REC_CH01', source: 'Recorder channel 1' },
      { token: 'REC_CH02', source: 'Recorder channel 2' },
      { token: 'REC_CH03', source: 'Recorder channel 3' },
      { token: 'REC_CH10' },
    ]);
    expect(again.recordings).toEqual(first.recordings);
    expect(first.degraded?.map((r) => r.channel)).toEqual(['REC_CH02']);
  });

  it('lists no recordings when the search fails or the device has none', async () => {
    const failed = await run({
      recordings: async () => {
        throw new OnvifError('timeout', 'no answer');
      },
    });
    expect(failed.recordings).toBeUndefined();
    const none = await run({ recordings: async () => null, recordingJobs: async () => null });
    expect(none.recordings).toBeUndefined();
  });

  describe('job states in turns (checks.channelsPerPoll)', () => {
    /** A 16-job recorder whose job states the test sets; records which states were asked. */
    function recorder() {
      const states = new Map(
        Array.from({ length: 16 }, (_, i) => [`JOB_${i + 1}`, 'Active'] as [string, string]),
      );
      const modes = new Map<string, string>();
      const asked: string[][] = [];
      const client = fakeClient({
        recordings: async () =>
          [...states.keys()].map((job, i) => ({
            ...rec(1, 1),
            token: `REC_${i + 1}`,
            source: job,
          })),
        recordingJobs: async (_signal, which) => {
          const items = [...states.keys()].map((token, i) => ({
            token,
            recordingToken: `REC_${i + 1}`,
            mode: modes.get(token) ?? 'Active',
          }));
          const chosen = which ? which(items) : new Set(items.map((j) => j.token));
          asked.push(items.filter((j) => chosen.has(j.token)).map((j) => j.token));
          return items.map((j) => ({
            ...j,
            state: chosen.has(j.token) ? states.get(j.token)! : null,
            errors: [],
          }));
        },
      });
      const context = { ...contextFor(client), device: nvr, now: () => at };
      const poll = async () =>
        ((await recording.run(context)).degraded ?? []).map((r) => r.channel);
      return { states, modes, asked, poll };
    }

    it('asks every job at the first poll, then 4 a poll in turn, each once in 4 polls', async () => {
      const { asked, poll } = recorder();
      await poll();
      expect(asked[0]).toHaveLength(16);
      for (let i = 0; i < 4; i++) await poll();
      expect(asked.slice(1).map((a) => a.length)).toEqual([4, 4, 4, 4]);
      expect(new Set(asked.slice(1).flat()).size).toBe(16);
    });

    it('sees a job stop at its turn, and asks it every poll until it records again', async () => {
      const { states, asked, poll } = recorder();
      await poll();
      states.set('JOB_7', 'Idle');
      const found: (string | undefined)[][] = [];
      for (let i = 0; i < 4; i++) found.push(await poll());
      // Within one round of turns (4 polls of 4), JOB_7's stop is seen and stays reported.
      const first = found.findIndex((channels) => channels.includes('REC_7'));
      expect(first).toBeGreaterThanOrEqual(0);
      expect(found.slice(first).every((channels) => channels.includes('REC_7'))).toBe(true);
      const before = asked.length;
      await poll();
      expect(asked[before]).toContain('JOB_7');
      expect(asked[before]).toHaveLength(5);
      states.set('JOB_7', 'Active');
      expect(await poll()).toEqual([]);
      await poll();
      expect(asked.at(-1)).toHaveLength(4);
    });

    it('never asks the state of a job switched off on purpose (Mode Idle)', async () => {
      const { modes, asked, poll } = recorder();
      modes.set('JOB_3', 'Idle');
      await poll();
      await poll();
      expect(asked.flat()).not.toContain('JOB_3');
      expect(asked[0]).toHaveLength(15);
    });
  });
});

describe('reachable: the opening question asked again once overdue (confirmAfterMs)', () => {
  /** A clock request that ends after `ms` as told, or when its signal is aborted. */
  type Script = { ms: number; ends: 'answers' | 'times-out' | 'refused' };
  function scripted(scripts: Script[]) {
    const sent: number[] = [];
    const t0 = Date.now();
    const clock = (signal?: AbortSignal) => {
      const script = scripts[sent.length] ?? { ms: 10_000, ends: 'times-out' as const };
      sent.push(Date.now() - t0);
      return new Promise<{ deviceUtc: Date; offsetMs: number; responseMs: number }>(
        (resolve, reject) => {
          const timer = setTimeout(() => {
            if (script.ends === 'answers') {
              resolve({ deviceUtc: new Date(), offsetMs: 0, responseMs: script.ms });
            } else if (script.ends === 'refused') {
              reject(new OnvifError('unreachable', 'connect ECONNREFUSED'));
            } else reject(new OnvifError('timeout', `no answer within ${script.ms} ms`));
          }, script.ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new OnvifError('timeout', 'the poll was cancelled before the device answered'));
          });
        },
      );
    };
    return { client: fakeClient({ clock }), sent };
  }
  const reachable = checks[0]!;

  it('a first request that answers in time is the only one', async () => {
    const { client, sent } = scripted([{ ms: 5, ends: 'answers' }]);
    const context = { ...contextFor(client), confirmAfterMs: 40 };
    expect((await reachable.run(context)).failure).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it('a slow device: the second request goes out, the first answer of either counts', async () => {
    const { client, sent } = scripted([
      { ms: 80, ends: 'answers' },
      { ms: 200, ends: 'times-out' },
    ]);
    const context = { ...contextFor(client), confirmAfterMs: 20 };
    expect((await reachable.run(context)).failure).toBeUndefined();
    expect(sent).toHaveLength(2);
    expect(context.memory.openingUnanswered).toBeNull();
  });

  it('a stall: the first request unanswered, the second answered: up, nothing confirmed', async () => {
    const { client } = scripted([
      { ms: 60, ends: 'times-out' },
      { ms: 60, ends: 'answers' },
    ]);
    const context = { ...contextFor(client), confirmAfterMs: 20 };
    expect((await reachable.run(context)).failure).toBeUndefined();
    expect(context.memory.openingUnanswered).toBeNull();
  });

  it('both unanswered to their deadlines: a timeout that says so, confirmed and dated from the first', async () => {
    const { client, sent } = scripted([
      { ms: 60, ends: 'times-out' },
      { ms: 60, ends: 'times-out' },
    ]);
    const before = Date.now();
    const context = { ...contextFor(client), confirmAfterMs: 20 };
    const result = await reachable.run(context);
    expect(result.failure).toEqual({
      code: 'timeout',
      message: expect.stringContaining('asked again on a second request after 20 ms'),
    });
    expect(sent).toHaveLength(2);
    expect(context.memory.openingUnanswered?.getTime()).toBeGreaterThanOrEqual(before);
    expect(context.memory.openingUnanswered!.getTime()).toBeLessThanOrEqual(before + sent[1]!);
  });

  it('a refused connection is decisive at once: no second request, nothing confirmed', async () => {
    const { client, sent } = scripted([{ ms: 1, ends: 'refused' }]);
    const context = { ...contextFor(client), confirmAfterMs: 20 };
    expect((await reachable.run(context)).failure?.code).toBe('unreachable');
    expect(sent).toHaveLength(1);
    expect(context.memory.openingUnanswered).toBeNull();
  });

  it('without confirmAfterMs (a confirming poll, or the probe off) the question is asked once', async () => {
    const { client, sent } = scripted([{ ms: 60, ends: 'times-out' }]);
    const result = await reachable.run(contextFor(client));
    expect(result.failure?.code).toBe('timeout');
    expect(sent).toHaveLength(1);
  });
});
