/**
 * Refused monitoring credentials on the real ticket desk: a password changed on every
 * camera of a site at once (a common maintenance step) is many general tickets, never a
 * site outage, whether today's agent sends it (degraded) or an older one (down); a camera
 * that refuses us and then dies is an emergency all the same.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reason } from '../../../../shared/messages/device-state.js';
import { camera, makeDesk, type DeskFixture } from './desk-fixture.js';

const refused: Reason = { code: 'auth-failed', message: 'monitoring credentials rejected' };
const ids = Array.from({ length: 10 }, (_, i) => `cam-${String(i + 1).padStart(2, '0')}`);

describe('refused credentials on the ticket desk', () => {
  let f: DeskFixture;
  afterEach(async () => {
    await f?.cleanup();
  });

  for (const [agent, status] of [
    ['today', 'degraded'],
    ['older', 'down'],
  ] as const) {
    it(`a site-wide password change (${agent} agent): a general ticket per camera, no site outage`, async () => {
      f = await makeDesk(
        {},
        ids.map((id) => camera(id)),
      );
      for (const id of ids.slice(0, 6)) {
        f.report(id, status, { reasons: [refused] });
        await f.advance(200);
      }
      await f.advance(60_000);
      const open = await f.open();
      expect(open.map((t) => [t.deviceId, t.fault, t.priority])).toEqual(
        ids.slice(0, 6).map((id) => [id, 'degraded:auth-failed', 'general']),
      );
      expect(f.registry.get('demo-site', 'cam-01')?.status).toBe('degraded');
    });
  }

  it('a camera that refuses us and then dies: emergency, and the credentials ticket stays', async () => {
    f = await makeDesk(
      {},
      ids.map((id) => camera(id)),
    );
    f.report('cam-03', 'degraded', { reasons: [refused] });
    await f.advance(60_000);
    f.report('cam-03', 'down');
    const open = (await f.open()).map((t) => [t.fault, t.priority]);
    expect(open).toContainEqual(['device-down', 'emergency']);
    expect(open).toContainEqual(['degraded:auth-failed', 'general']);
    // Back, with the password fixed: both resolve.
    await f.advance(60_000);
    f.report('cam-03', 'up');
    expect(await f.open()).toEqual([]);
  });
});
