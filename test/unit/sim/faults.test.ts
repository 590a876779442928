import { describe, expect, it } from 'vitest';
import { SimFault, simFaultExamples } from '../../../shared/api/sim.js';
import {
  acceptedFaults,
  checkFault,
  durationOf,
  effectsOf,
  faultKinds,
  withFault,
} from '../../../sim/faults.js';

describe('fault catalogue', () => {
  it('has an entry for every kind of the SimFault schema, and no other', () => {
    const schemaKinds = SimFault.anyOf.map((variant) => variant.properties.kind.const);
    expect([...faultKinds].sort()).toEqual([...schemaKinds].sort());
    expect(faultKinds).toHaveLength(29);
    for (const example of simFaultExamples) expect(checkFault(example).ok).toBe(true);
  });

  it('a healthy device listens, answers, has live pictures and records', () => {
    const effects = effectsOf([]);
    expect(effects).toMatchObject({ listening: true, answering: true, delayMs: 0 });
    expect(effects.channel(1)).toEqual({
      picture: 'live',
      streamDown: false,
      signalLoss: false,
      tamper: false,
      recordingStopped: false,
      offline: false,
    });
    expect(effects).toMatchObject({ disks: {}, retentionDays: null });
  });

  it('disk faults change one bay each, and a second fault on the same bay replaces the first', () => {
    let faults = withFault([], { kind: 'disk-error', disk: 2, state: 'smartFailed' });
    faults = withFault(faults, { kind: 'disk-removed', disk: 3 });
    faults = withFault(faults, { kind: 'disk-error', disk: 2 });
    expect(effectsOf(faults).disks).toEqual({ 2: 'error', 3: 'notexist' });
    expect(effectsOf([{ kind: 'disk-unformatted' }]).disks).toEqual({ 1: 'unformatted' });
  });

  it("channel-offline takes one NVR channel's camera away: video lost, nothing recorded", () => {
    const effects = effectsOf([{ kind: 'channel-offline', channel: 2 }]);
    expect(effects.channel(2)).toMatchObject({
      offline: true,
      signalLoss: true,
      picture: 'black',
      recordingStopped: true,
    });
    expect(effects.channel(1).offline).toBe(false);
    expect(effectsOf([{ kind: 'picture-blurred', channel: 1 }]).channel(1).picture).toBe('blurred');
    expect(effectsOf([{ kind: 'retention-short', days: 12 }]).retentionDays).toBe(12);
  });

  it('cert-changed makes an https device present another certificate, nothing else', () => {
    expect(effectsOf([]).certificateChanged).toBe(false);
    expect(effectsOf([{ kind: 'cert-changed' }])).toMatchObject({
      certificateChanged: true,
      listening: true,
      answering: true,
    });
  });

  it('offline stops listening; hang stops answering; both together do both', () => {
    expect(effectsOf([{ kind: 'offline' }])).toMatchObject({ listening: false, answering: true });
    expect(effectsOf([{ kind: 'hang' }])).toMatchObject({ listening: true, answering: false });
    expect(effectsOf([{ kind: 'hang' }, { kind: 'offline' }])).toMatchObject({
      listening: false,
      answering: false,
    });
  });

  it('channel faults hit their channel only, or every channel without one', () => {
    const one = effectsOf([{ kind: 'video-loss', channel: 2 }]);
    expect(one.channel(2)).toMatchObject({ signalLoss: true, picture: 'black' });
    expect(one.channel(1)).toMatchObject({ signalLoss: false, picture: 'live' });
    const all = effectsOf([{ kind: 'stream-down' }]);
    expect([all.channel(1).streamDown, all.channel(7).streamDown]).toEqual([true, true]);
  });

  it('storage faults stop every recording', () => {
    expect(effectsOf([{ kind: 'storage-full' }]).channel(3).recordingStopped).toBe(true);
    expect(effectsOf([{ kind: 'storage-failure' }])).toMatchObject({ storageFailed: true });
  });

  it('a recorder stops recording once no disk can take it, not while one still can', () => {
    const bays = [1, 2];
    let faults = withFault([], { kind: 'disk-error', disk: 1 });
    expect(effectsOf(faults, bays)).toMatchObject({ noDiskWorking: false });
    expect(effectsOf(faults, bays).channel(1).recordingStopped).toBe(false);
    // A disk failing S.M.A.R.T. still records (Hikvision's smartFailed).
    expect(
      effectsOf(withFault(faults, { kind: 'disk-error', disk: 2, state: 'smartFailed' }), bays),
    ).toMatchObject({ noDiskWorking: false });
    faults = withFault(faults, { kind: 'disk-unformatted', disk: 2 });
    expect(effectsOf(faults, bays)).toMatchObject({ noDiskWorking: true });
    expect(effectsOf(faults, bays).channel(4).recordingStopped).toBe(true);
    // A fault on a bay without a disk changes nothing; a camera has no bays at all.
    expect(effectsOf([{ kind: 'disk-error', disk: 3 }], bays)).toMatchObject({
      noDiskWorking: false,
    });
    expect(effectsOf(faults)).toMatchObject({ noDiskWorking: false });
  });

  it('a kind is active once per channel', () => {
    const faults = withFault(withFault([{ kind: 'hang' }], { kind: 'offline' }), { kind: 'hang' });
    expect(faults).toEqual([{ kind: 'offline' }, { kind: 'hang' }]);
    const channels = withFault([{ kind: 'tamper', channel: 1 }], { kind: 'tamper', channel: 2 });
    expect(channels).toHaveLength(2);
  });

  it('reboot clears itself after downS; others only with durationS', () => {
    expect(durationOf({ kind: 'reboot' })).toBe(20);
    expect(durationOf({ kind: 'reboot', downS: 3 })).toBe(3);
    expect(durationOf({ kind: 'offline' })).toBeUndefined();
    expect(durationOf({ kind: 'offline', durationS: 60 })).toBe(60);
  });

  it('checks the kind first, then that kind fields, every error by path', () => {
    expect(checkFault({ kind: 'meltdown' })).toEqual({
      ok: false,
      errors: [expect.stringMatching(/^kind: must be one of "offline", "hang", /)],
    });
    const bad = checkFault({ kind: 'clock-drift', offsetS: 'ten', extra: 1 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^offsetS: /),
          expect.stringMatching(/unknown field\(s\) extra/),
        ]),
      );
    }
    expect(checkFault('offline').ok).toBe(false);
  });

  it('describes what is accepted, with an example each', () => {
    const lines = acceptedFaults();
    expect(lines).toHaveLength(faultKinds.length);
    expect(lines[0]).toMatch(/^\{"kind":"offline"\}: /);
  });
});
