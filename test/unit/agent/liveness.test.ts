/**
 * What a liveness probe means (agent/liveness.ts), with a fake question and fake states:
 * which answers ask for a full check, which count as a first failure, and that one
 * disagreement asks once. The probe against the real simulator:
 * test/integration/agent/liveness.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../../agent/device-state.js';
import { reachable } from '../../../agent/checks/reachable.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { Liveness } from '../../../agent/liveness.js';
import { OnvifError, type OnvifClient, type OnvifFailureKind } from '../../../agent/onvif/types.js';
import { PollStartedError } from '../../../agent/scheduler.js';
import { CERTIFICATE_CODES } from '../../../shared/messages/device-state.js';

function bed(initial: DeviceStatus) {
  const state = {
    status: initial as DeviceStatus,
    answers: true,
    failure: 'timeout' as OnvifFailureKind,
    suspected: 0,
    asked: 0,
    /** When the last question was sent, and the time the last suspicion was dated by. */
    askedAt: 0,
    suspectedAt: 0,
  };
  const liveness = new Liveness({
    ask: async () => {
      state.asked += 1;
      state.askedAt = Date.now();
      // The device leaves the question unanswered a while before the failure comes.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (!state.answers) throw new OnvifError(state.failure, 'no answer');
    },
    status: () => state.status,
    suspect: (_id, askedAt) => {
      state.suspected += 1;
      state.suspectedAt = askedAt.getTime();
    },
  });
  const probe = () => liveness.probe('cam-01', new AbortController().signal);
  return { state, liveness, probe };
}

describe('liveness probe decisions', () => {
  it('an up device that does not answer: a full check now, and a first failure counted', async () => {
    const { state, probe } = bed('up');
    expect(await probe()).toBe(false);
    state.answers = false;
    expect(await probe()).toBe(true);
    expect(state.suspected).toBe(1);
    // The outage is dated from the unanswered question, not from when it was given up.
    expect(state.suspectedAt).toBeLessThanOrEqual(state.askedAt);
    expect(state.askedAt - state.suspectedAt).toBeLessThan(20);
  });

  it('a degraded device is alive too: it is checked only when it stops answering', async () => {
    const { state, probe } = bed('degraded');
    expect(await probe()).toBe(false);
    state.answers = false;
    expect(await probe()).toBe(true);
  });

  it('a device whose HTTPS certificate we refuse is there: no check, nothing counted', async () => {
    const pinned = `${'AA:'.repeat(31)}01`;
    const presented = `${'BB:'.repeat(31)}02`;
    const liveness = new Liveness({
      ask: async () => {
        throw new OnvifError('certificate-changed', 'another certificate', { pinned, presented });
      },
      status: () => 'degraded',
      suspect: () => {
        throw new Error('a refused certificate is no failure of the device');
      },
    });
    expect(await liveness.probe('cam-01', new AbortController().signal)).toBe(false);
  });

  it('agrees with the reachable check on what "answered" means, for every failure of the question', async () => {
    const certificate = { pinned: `${'AA:'.repeat(31)}01`, presented: `${'BB:'.repeat(31)}02` };
    const kinds: OnvifFailureKind[] = [
      'unreachable',
      'timeout',
      'auth-failed',
      'protocol-error',
      'certificate-changed',
      'certificate-untrusted',
    ];
    for (const kind of kinds) {
      const error = new OnvifError(kind, 'the question failed', certificate);
      const client = { clock: () => Promise.reject(error) } as unknown as OnvifClient;
      const result = await reachable.run({
        device: { id: 'cam-01', name: 'Lobby', kind: 'camera', xaddr: 'http://192.0.2.1/onvif' },
        client,
        signal: new AbortController().signal,
        settings: { ...checkDefaults },
        memory: new DeviceMemory(),
        now: Date.now,
        intervalS: 15,
      });
      // The poll goes on with the device there, or ends it with a reason that is no outage.
      const pollSaysThere =
        result.failure === undefined || CERTIFICATE_CODES.includes(result.failure.code);
      let suspected = 0;
      const liveness = new Liveness({
        ask: () => Promise.reject(error),
        status: () => 'up',
        suspect: () => void (suspected += 1),
      });
      const asked = await liveness.probe('cam-01', new AbortController().signal);
      expect({ kind, probeSaysThere: !asked && suspected === 0 }).toEqual({
        kind,
        probeSaysThere: pollSaysThere,
      });
    }
  });

  it('a camera that wants credentials even for its clock answered: no check, nothing counted', async () => {
    const { state, probe } = bed('up');
    state.answers = false;
    state.failure = 'auth-failed';
    expect(await probe()).toBe(false);
    expect(state.suspected).toBe(0);
  });

  it('a down device that answers: a full check now, with nothing counted against it', async () => {
    const { state, probe } = bed('down');
    state.answers = false;
    expect(await probe()).toBe(false);
    state.answers = true;
    expect(await probe()).toBe(true);
    expect(state.suspected).toBe(0);
  });

  it('a disagreement its check did not confirm asks again every 3 probes, or after the next poll, or once the probe agrees', async () => {
    const { state, liveness, probe } = bed('up');
    state.answers = false; // no answer within the deadline
    expect(await probe()).toBe(true);
    liveness.polled('cam-01'); // the check it asked for found the device well
    expect([await probe(), await probe(), await probe()]).toEqual([false, false, true]);
    liveness.polled('cam-01');
    expect(await probe()).toBe(false);
    liveness.polled('cam-01'); // its next scheduled poll
    expect(await probe()).toBe(true);
    liveness.polled('cam-01');
    state.answers = true;
    expect(await probe()).toBe(false); // agrees again
    state.answers = false;
    expect(await probe()).toBe(true);
    expect(liveness.stats()).toEqual({ probes: 8, checksOnFailure: 4, checksOnAnswer: 0 });
  });

  it('a refused connection always asks: it is definite, and its check is quick', async () => {
    const { state, liveness, probe } = bed('up');
    state.answers = false;
    state.failure = 'unreachable';
    expect(await probe()).toBe(true);
    liveness.polled('cam-01');
    expect(await probe()).toBe(true);
  });

  it("a probe whose device's poll started while it waited counts for nothing", async () => {
    let suspected = 0;
    const liveness = new Liveness({
      ask: (_id, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new OnvifError('timeout', 'cancelled')), {
            once: true,
          }),
        ),
      status: () => 'up',
      suspect: () => void (suspected += 1),
    });
    const controller = new AbortController();
    const probing = liveness.probe('cam-01', controller.signal);
    controller.abort(new PollStartedError('cam-01'));
    expect(await probing).toBe(false);
    expect(suspected).toBe(0);
  });

  it('a device not decided yet is not probed', async () => {
    const { state, probe } = bed('unknown');
    expect(await probe()).toBe(false);
    expect(state.asked).toBe(0);
  });

  it('a poll that changed the status while the probe waited: compared with the status now', async () => {
    const { state, liveness } = bed('up');
    state.answers = false;
    const probing = liveness.probe('cam-01', new AbortController().signal);
    state.status = 'down'; // a poll confirmed it meanwhile
    expect(await probing).toBe(false);
    expect(state.suspected).toBe(0);
  });

  it('an error that is not the device failing is a bug and goes up', async () => {
    const liveness = new Liveness({
      ask: () => Promise.reject(new TypeError('x is undefined')),
      status: () => 'up',
      suspect: () => undefined,
    });
    await expect(liveness.probe('cam-01', new AbortController().signal)).rejects.toThrow(TypeError);
  });
});
