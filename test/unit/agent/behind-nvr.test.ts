/**
 * Cameras behind an NVR (agent/behind-nvr.ts): which ONVIF token is which channel, the
 * state of a camera only behind its NVR, and what the NVR adds to a camera also polled
 * directly; then the camera's DeviceState fed poll by poll, as agent.ts feeds it. Last, a
 * channel with a camera behind it belongs to that camera (nvrOwnReasons): every reason of
 * the NVR about it leaves the NVR, becomes the camera's (witness the NVR) while the camera
 * answers, and is said on neither device while the camera is down because its channel is
 * offline; a reason whose channel is not known with certainty stays the NVR's. The reasons
 * are worded as the checks make them (agent/checks/: the source token for stream, picture
 * and events, the recording token for recording; sim/profiles.ts, sim/recording.ts).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  behindAddress,
  channelLines,
  channelOfReason,
  channelOfRecording,
  channelOfToken,
  channelReasons,
  judge,
  nvrOwnReasons,
  witnessed,
  type BehindClaim,
  type NvrSight,
} from '../../../agent/behind-nvr.js';
import { DeviceState } from '../../../agent/device-state.js';
import type { PollResult } from '../../../agent/poll.js';
import type { Reason, ReasonCode } from '../../../shared/messages/device-state.js';

const BEHIND = { nvr: 'nvr-01', channel: 2 };

function sight(extra: Partial<NvrSight> = {}): NvrSight {
  return {
    nvr: { id: 'nvr-01', name: 'Recorder A' },
    status: 'up',
    answered: true,
    channels: [
      { id: '1', online: true, detail: 'connect' },
      { id: '2', online: true, detail: 'connect', address: '192.168.254.3' },
    ],
    reasons: [],
    onvif: true,
    sources: ['vs1', 'vs2'],
    recordings: [
      { token: 'REC_CH01', source: 'Recorder A channel 1' },
      { token: 'REC_CH02', source: 'Recorder A channel 2' },
    ],
    ...extra,
  };
}

const offline = (detail = 'netUnreachable') =>
  sight({
    channels: [
      { id: '1', online: true },
      { id: '2', online: false, detail, address: '192.168.254.3' },
    ],
  });

const videoLost = {
  code: 'video-loss',
  message: 'ONVIF event: video signal lost (vs2)',
  channel: 'vs2',
} as const;
const notRecording = {
  code: 'recording-stopped',
  message: 'Recorder A channel 2: newest recording 300 s old (limit 120 s, status Idle)',
  channel: 'REC_CH02',
} as const;

describe('which ONVIF token is channel N', () => {
  it('reads the number a token ends in, numbered from 1 as most firmware does', () => {
    expect(channelOfToken('vs3', ['vs1', 'vs2', 'vs3'])).toBe(3);
    expect(channelOfToken('VideoSource_2', ['VideoSource_1', 'VideoSource_2'])).toBe(2);
    expect(channelOfToken('REC_CH10', ['REC_CH01', 'REC_CH02', 'REC_CH10'])).toBe(10);
  });

  it('adds one to tokens numbered from 0, and reads Hikvision stream numbers (101, 201) by their hundreds', () => {
    expect(channelOfToken('VideoSource001', ['VideoSource000', 'VideoSource001'])).toBe(2);
    expect(channelOfToken('201', ['101', '201', '301'])).toBe(2);
    expect(channelOfToken('102', ['101', '102', '201'])).toBe(1);
  });

  it('keeps the numbers when a channel is free: channel 1 unused, or channel 2 (review-b #4)', () => {
    expect(channelOfToken('VideoSource_2', ['VideoSource_2', 'VideoSource_3'])).toBe(2);
    expect(channelOfToken('VideoSource_3', ['VideoSource_2', 'VideoSource_3'])).toBe(3);
    expect(channelOfToken('301', ['101', '301'])).toBe(3);
    expect(channelOfToken('REC_CH04', ['REC_CH01', 'REC_CH04'])).toBe(4);
  });

  it('takes the position among the NVR tokens when they carry no numbers of their own', () => {
    expect(channelOfToken('rear', ['front', 'rear'])).toBe(2);
    expect(channelOfToken('Main_1b', ['Main_1a', 'Main_1b'])).toBe(2);
  });

  it('reads a token the NVR lists are not known for by its own number only', () => {
    expect(channelOfToken('vs4', [])).toBe(4);
    expect(channelOfToken('front', [])).toBeNull();
    expect(channelOfToken('VideoSource000', [])).toBeNull();
  });

  it('maps a recording by its token, else by the camera it holds, else by its position', () => {
    const byToken = sight().recordings;
    expect(channelOfRecording('REC_CH02', byToken)).toBe(2);
    const bySource = [
      { token: 'RecordingA', source: 'Lobby channel 1' },
      { token: 'RecordingB', source: 'Lobby channel 2' },
    ];
    expect(channelOfRecording('RecordingB', bySource)).toBe(2);
    expect(channelOfRecording('b', [{ token: 'a' }, { token: 'b' }])).toBe(2);
  });
});

describe('a camera only behind its NVR', () => {
  it('is down, unreachable, with the NVR as witness, when the NVR reports its channel offline', () => {
    const verdict = judge(BEHIND, offline(), true);
    expect(verdict.kind).toBe('seen');
    const result = verdict.kind === 'seen' ? verdict.result : null;
    expect(result?.ok).toBe(false);
    if (result?.ok !== false) return;
    expect(result.values).toEqual({ up: false });
    expect(result.failure.code).toBe('unreachable');
    expect(result.failure.witness).toBe('nvr-01');
    expect(result.failure.message).toMatch(
      /^NVR "Recorder A" \(nvr-01\) reports channel 2 offline \(netUnreachable\): .*192\.168\.254\.3/,
    );
    expect(result.failure.message).toMatch(/PoE port/);
  });

  it('is up when the channel is online and the NVR says nothing against it', () => {
    const verdict = judge(BEHIND, sight({ reasons: [{ ...videoLost, channel: 'vs1' }] }), true);
    expect(verdict).toEqual({
      kind: 'seen',
      result: { ok: true, values: { up: true }, degraded: [] },
    });
  });

  it("is degraded by the NVR's video loss and stopped recording of its channel, witnessed", () => {
    const verdict = judge(BEHIND, sight({ reasons: [videoLost, notRecording] }), true);
    expect(verdict.kind === 'seen' && verdict.result.ok && verdict.result.degraded).toEqual([
      {
        code: 'video-loss',
        message:
          'NVR "Recorder A" (nvr-01) has lost the video of channel 2: ONVIF event: video signal lost (vs2)',
        witness: 'nvr-01',
      },
      {
        code: 'recording-stopped',
        message: `NVR "Recorder A" (nvr-01) does not record channel 2: ${notRecording.message}`,
        witness: 'nvr-01',
      },
    ]);
  });

  it('is unknown while its NVR is down, and concludes nothing from a first failure', () => {
    expect(judge(BEHIND, sight({ status: 'down', answered: false }), true)).toEqual({
      kind: 'unseen',
      why: 'NVR "Recorder A" (nvr-01) is down',
    });
    expect(judge(BEHIND, sight({ status: 'up', answered: false }), true)).toEqual({ kind: 'wait' });
  });

  it('is unknown, saying what to fix, on a channel the NVR does not have', () => {
    const verdict = judge({ nvr: 'nvr-01', channel: 9 }, sight(), true);
    expect(verdict.kind).toBe('unseen');
    expect(verdict.kind === 'unseen' && verdict.why).toMatch(
      /has no channel 9 \(its IP channels: 1, 2\); set behind.channel/,
    );
  });

  it('waits out a poll without the channel list when the vendor API gave it lately', () => {
    expect(judge(BEHIND, sight({ channels: null }), true)).toEqual({ kind: 'wait' });
  });

  it("reads an ONVIF-only NVR's video loss as degraded, never as down", () => {
    const onvifOnly = sight({ channels: null, reasons: [videoLost] });
    const verdict = judge(BEHIND, onvifOnly, false);
    expect(verdict.kind === 'seen' && verdict.result.ok).toBe(true);
    expect(verdict.kind === 'seen' && verdict.result.ok && verdict.result.degraded[0]?.code).toBe(
      'video-loss',
    );
    expect(judge(BEHIND, sight({ channels: null }), false).kind).toBe('seen');
  });

  it('is unknown, never up, when the NVR answers but its ONVIF side was not read (refused)', () => {
    const refused = sight({ channels: null, onvif: false });
    const verdict = judge(BEHIND, refused, false);
    expect(verdict.kind).toBe('unseen');
    expect(verdict.kind === 'unseen' && verdict.why).toMatch(/tells nothing of its channels/);
    // The vendor API saying online is enough on its own.
    expect(judge(BEHIND, sight({ onvif: false }), true).kind).toBe('seen');
  });

  it('is unknown when the NVR gives no state of the channel at all', () => {
    const blind = sight({ channels: null, sources: [], recordings: [] });
    const verdict = judge(BEHIND, blind, false);
    expect(verdict.kind).toBe('unseen');
    expect(verdict.kind === 'unseen' && verdict.why).toMatch(/gives no state of channel 2/);
  });

  it('is published at its NVR address with the channel as fragment', () => {
    expect(behindAddress('http://192.0.2.50/onvif/device_service', 3)).toBe(
      'http://192.0.2.50/onvif/device_service#channel=3',
    );
  });
});

describe('a camera reachable directly and through its NVR', () => {
  const own = (degraded: Extract<PollResult, { ok: true }>['degraded'] = []): PollResult => ({
    ok: true,
    values: { up: true, responseMs: 4 },
    degraded,
  });

  it("adds the NVR's video loss when the gateway still reaches the camera", () => {
    const result = witnessed(own(), BEHIND, offline());
    expect(result.ok && result.degraded.map((r) => [r.code, r.witness])).toEqual([
      ['video-loss', 'nvr-01'],
    ]);
    expect(result.ok && result.degraded[0]?.message).toMatch(
      /reports channel 2 offline \(netUnreachable\) while the gateway reaches the camera/,
    );
  });

  it('adds nothing the camera already says itself, nor from an NVR that is down or stale', () => {
    const mine = {
      code: 'video-loss',
      message: 'ONVIF event: video signal lost (VideoSource_1)',
    } as const;
    expect(witnessed(own([mine]), BEHIND, sight({ reasons: [videoLost] }))).toEqual(own([mine]));
    expect(witnessed(own(), BEHIND, sight({ status: 'down', answered: false }))).toEqual(own());
    expect(witnessed(own(), BEHIND, null)).toEqual(own());
  });

  it('keeps its own failure: its own poll decides', () => {
    const down: PollResult = {
      ok: false,
      values: { up: false },
      failure: { code: 'timeout', message: 'no answer within 5000 ms' },
    };
    expect(witnessed(down, BEHIND, offline())).toBe(down);
  });

  it("adds the NVR's stopped recording beside its own other reasons", () => {
    const drift = { code: 'clock-drift', message: 'clock 40 s ahead' } as const;
    const result = witnessed(own([drift]), BEHIND, sight({ reasons: [notRecording] }));
    expect(result.ok && result.degraded.map((r) => r.code)).toEqual([
      'clock-drift',
      'recording-stopped',
    ]);
  });
});

describe("the camera's DeviceState, poll by poll of its NVR", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-06T08:00:00Z'));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const seen = (s: NvrSight): PollResult => {
    const verdict = judge(BEHIND, s, true);
    if (verdict.kind !== 'seen') throw new Error(`expected seen, got ${verdict.kind}`);
    return verdict.result;
  };

  it('is down at the second offline in a row, dated from the first, and up again at once', () => {
    const state = new DeviceState();
    expect(state.record(seen(sight())).change?.status).toBe('up');
    const firstAt = new Date('2026-12-06T08:00:15Z');
    vi.setSystemTime(firstAt);
    const first = state.record(seen(offline()), firstAt);
    expect(first).toEqual({ change: null, recheck: true });
    vi.setSystemTime(new Date('2026-12-06T08:00:16Z'));
    const second = state.record(seen(offline()), new Date());
    expect(second.change?.status).toBe('down');
    expect(second.change?.since).toEqual(firstAt);
    expect(second.change?.reasons[0]?.witness).toBe('nvr-01');
    vi.setSystemTime(new Date('2026-12-06T08:01:00Z'));
    expect(state.record(seen(sight())).change?.status).toBe('up');
  });

  it('goes unknown without reasons when its NVR is down, and back once it is seen', () => {
    const state = new DeviceState();
    state.record(seen(offline()));
    state.record(seen(offline()));
    expect(state.status).toBe('down');
    const unseen = state.unseen();
    expect(unseen?.status).toBe('unknown');
    expect(unseen?.reasons).toEqual([]);
    expect(state.unseen()).toBeNull();
    // A confirmation starts again after being unseen: one offline is not yet down.
    expect(state.record(seen(offline())).recheck).toBe(true);
    expect(state.status).toBe('unknown');
    expect(state.record(seen(sight())).change?.status).toBe('up');
  });
});

describe('vigil agent check of an NVR', () => {
  it('lists its IP channels with their cameras, for the behind: entries', () => {
    expect(
      channelLines([
        { id: '1', name: 'IPCamera 01', address: '192.168.254.2', online: true, detail: 'connect' },
        { id: '2', online: false, detail: 'netUnreachable' },
        { id: '3', online: null },
      ]),
    ).toEqual([
      "IP channels (a camera on one is configured with behind: { nvr: <this NVR's id>, channel: N }):",
      '  channel 1 "IPCamera 01" at 192.168.254.2: online (connect)',
      '  channel 2: offline (netUnreachable)',
      '  channel 3: state not given',
    ]);
    expect(channelLines([])).toEqual([]);
  });
});

const ONLY_BEHIND: BehindClaim = { behind: BEHIND, direct: false };

/** Each code a channel has, as the check that finds it words it, on channel 2's token. */
const onChannel2: Reason[] = [
  { code: 'stream-down', message: 'RTSP DESCRIBE of ch02_mainStream answered 404', channel: 'vs2' },
  { code: 'snapshot-failed', message: 'the snapshot of ch02_mainStream timed out', channel: 'vs2' },
  {
    code: 'picture-black',
    message: 'ch02_mainStream shows a black picture (mean luminance 3)',
    channel: 'vs2',
  },
  {
    code: 'picture-covered',
    message: 'ch02_mainStream shows a nearly uniform picture (contrast 1.2): covered',
    channel: 'vs2',
  },
  { code: 'picture-frozen', message: 'ch02_mainStream has shown the same picture', channel: 'vs2' },
  {
    code: 'picture-blurred',
    message: 'ch02_mainStream shows a blurred picture: sharpness 12',
    channel: 'vs2',
  },
  { code: 'video-loss', message: 'ONVIF event: video signal lost (vs2)', channel: 'vs2' },
  { code: 'tampering', message: 'ONVIF event: tampering detected (vs2)', channel: 'vs2' },
  {
    code: 'recording-stopped',
    message: 'REC_CH02: recording job JOB_CH02 is Idle though set to record',
    channel: 'REC_CH02',
  },
];
/** The NVR's own: its disk, and channel 1, which no camera only behind it is on. */
const storage: Reason = { code: 'storage-failure', message: 'disk hdd1 is error' };
const blackOn1: Reason = {
  code: 'picture-black',
  message: 'ch01_mainStream shows a black picture (mean luminance 2)',
  channel: 'vs1',
};
/** The media check's profiles of the NVR (sim/profiles.ts tokens). */
const profiles = [
  { token: 'ch01_main', source: 'vs1' },
  { token: 'ch02_main', source: 'vs2' },
];

describe('which channel a reason of the NVR is about', () => {
  it.each(onChannel2.map((r) => [r.code, r] as const))('%s on channel 2', (_code, reason) => {
    expect(channelOfReason(reason, sight())).toBe(2);
  });

  it('reads a media profile token by its source, and a token in no list by its number', () => {
    const black = (channel: string): Reason => ({ ...blackOn1, channel });
    expect(channelOfReason(black('ch02_main'), sight({ profiles }))).toBe(2);
    // Not among the profiles (another stream of the channel): its own number.
    expect(channelOfReason(black('ch02_mainStream'), sight())).toBe(2);
    expect(channelOfReason(black('VideoSource_2'), sight({ sources: [], profiles: [] }))).toBe(2);
  });

  it("reads Hikvision's channel × 100 + stream only where the NVR's channel list says so", () => {
    const hik = sight({ sources: ['101', '201'], recordings: [] });
    const on = (channel: string, code: ReasonCode = 'video-loss'): Reason => ({
      code,
      message: 'x',
      channel,
    });
    // Among its sources: their rank.
    expect(channelOfReason(on('201'), hik)).toBe(2);
    // A sub stream's profile token in no list: channel 2, stream 2.
    expect(channelOfReason(on('Profile_202'), hik)).toBe(2);
    expect(channelOfReason(on('202', 'recording-stopped'), hik)).toBe(2);
    // Without a channel list, or on a recorder that has a channel 202: not known.
    expect(channelOfReason(on('Profile_202'), { ...hik, channels: null })).toBeNull();
    const big = Array.from({ length: 256 }, (_, i) => ({ id: String(i + 1), online: true }));
    expect(channelOfReason(on('Profile_202'), { ...hik, channels: big })).toBeNull();
  });

  it('is none for a reason about the NVR itself or a token that cannot be read', () => {
    expect(channelOfReason(storage, sight())).toBeNull();
    expect(channelOfReason({ ...storage, channel: 'hdd1' }, sight())).toBeNull();
    expect(channelOfReason({ ...blackOn1, channel: 'front' }, sight())).toBeNull();
    expect(channelOfReason({ ...blackOn1, channel: 'VideoSource000' }, sight())).toBeNull();
    expect(channelOfReason({ code: 'picture-black', message: 'x' }, sight())).toBeNull();
  });
});

describe("the NVR's reasons about a channel with a camera behind it", () => {
  const all = [storage, ...onChannel2, blackOn1];

  it('leave the NVR, and each becomes the online camera’s, witnessed by the NVR', () => {
    const seen = sight({ reasons: all });
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([storage, blackOn1]);
    const verdict = judge(ONLY_BEHIND.behind, seen, true);
    const camera = verdict.kind === 'seen' && verdict.result.ok ? verdict.result.degraded : [];
    expect(camera.map((r) => [r.code, r.witness])).toEqual(
      onChannel2.map((r) => [r.code, 'nvr-01']),
    );
    expect(camera.find((r) => r.code === 'picture-covered')?.message).toBe(
      'NVR "Recorder A" (nvr-01) sees on channel 2: ch02_mainStream shows a nearly uniform picture (contrast 1.2): covered',
    );
    expect(camera.find((r) => r.code === 'stream-down')?.message).toMatch(
      /^NVR "Recorder A" \(nvr-01\) does not stream channel 2: RTSP DESCRIBE/,
    );
    // The camera's reasons are its own: no NVR token on them.
    for (const reason of camera) expect(reason.channel).toBeUndefined();
  });

  it('are said on neither device while the camera is down because its channel is offline', () => {
    const seen = { ...offline(), reasons: all };
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([storage, blackOn1]);
    const verdict = judge(ONLY_BEHIND.behind, seen, true);
    expect(verdict.kind === 'seen' && !verdict.result.ok && verdict.result.failure.code).toBe(
      'unreachable',
    );
  });

  it('stay the NVR’s when no camera is on the channel, or the camera is not seen', () => {
    const seen = sight({ reasons: all });
    expect(nvrOwnReasons(seen, [], true)).toEqual(all);
    // A camera configured on channel 9, which the NVR does not list: it is unknown, and
    // the NVR keeps what it says of its channels.
    const wrong: BehindClaim = { behind: { nvr: 'nvr-01', channel: 9 }, direct: false };
    const on9 = { ...blackOn1, channel: 'vs9' };
    expect(nvrOwnReasons(sight({ reasons: [on9] }), [wrong], true)).toEqual([on9]);
  });

  it('stay the NVR’s when their channel cannot be read with certainty', () => {
    const unreadable: Reason = { code: 'video-loss', message: 'signal lost', channel: 'front' };
    const seen = sight({ reasons: [unreadable] });
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([unreadable]);
  });

  it('are held back while a poll without the channel list leaves the camera as it was', () => {
    const seen = sight({ channels: null, reasons: all });
    expect(judge(ONLY_BEHIND.behind, seen, true).kind).toBe('wait');
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([storage, blackOn1]);
  });

  it('leave an NVR that answers now, whatever its status before this poll', () => {
    const seen = sight({ status: 'down', reasons: all });
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([storage, blackOn1]);
  });

  it('leave the NVR for a camera reached directly too, whose own poll decides', () => {
    const direct: BehindClaim = { ...ONLY_BEHIND, direct: true };
    const seen = { ...offline(), reasons: all };
    expect(nvrOwnReasons(seen, [direct], true)).toEqual([storage, blackOn1]);
    // Its own poll answered: what the NVR saw is added where it did not say the same code.
    const mine: Reason = {
      code: 'picture-covered',
      message: 'main shows a nearly uniform picture',
    };
    const own: PollResult = { ok: true, values: { up: true }, degraded: [mine] };
    const result = witnessed(own, direct.behind, sight({ reasons: all }));
    const codes = result.ok ? result.degraded.map((r) => r.code) : [];
    expect(codes.filter((c) => c === 'picture-covered')).toHaveLength(1);
    expect(codes).toContain('recording-stopped');
    // Its own poll down: its failure stands alone.
    const down: PollResult = {
      ok: false,
      values: { up: false },
      failure: { code: 'timeout', message: 'no answer within 5000 ms' },
    };
    expect(witnessed(down, direct.behind, seen)).toBe(down);
  });

  it('are one per code on the camera, though the NVR says it under two tokens', () => {
    const twice = [
      { ...onChannel2[2]!, channel: 'vs2' },
      { ...onChannel2[2]!, channel: 'ch02_main' },
    ];
    const seen = sight({ profiles, reasons: twice });
    expect(nvrOwnReasons(seen, [ONLY_BEHIND], true)).toEqual([]);
    expect(channelReasons(seen, 2).map((r) => r.code)).toEqual(['picture-black']);
  });

  it('are all the NVR’s from a poll that did not answer (there are none to take)', () => {
    const failed = sight({ answered: false, reasons: [] });
    expect(nvrOwnReasons(failed, [ONLY_BEHIND], true)).toEqual([]);
  });
});
