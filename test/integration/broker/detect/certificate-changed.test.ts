/**
 * An HTTPS camera whose certificate changed, on the real ticket desk: the agent reports it
 * degraded with certificate-changed and both fingerprints; the desk opens a general ticket
 * (not an emergency: the device still works, we refuse to talk to it) whose words name the
 * device and both fingerprints, in English and Chinese; once the new certificate is accepted the next state has no such reason and the
 * ticket resolves by itself.
 */
import { afterEach, expect, it } from 'vitest';
import type { Reason } from '../../../../shared/messages/device-state.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';
import { camera, makeDesk, type DeskFixture } from './desk-fixture.js';

const pinned = `${'AB:'.repeat(31)}01`;
const presented = `${'7F:'.repeat(31)}02`;
const changed: Reason = {
  code: 'certificate-changed',
  message: `the device presents another HTTPS certificate than the one pinned: pinned SHA-256 ${pinned}, presented ${presented}`,
  certificate: { pinned, presented },
};

let f: DeskFixture;
afterEach(async () => {
  await f?.cleanup();
});

it('a changed certificate opens a general ticket naming both fingerprints; accepted, it resolves', () => {
  f = makeDesk({}, [camera('cam-01'), camera('cam-02')]);
  f.report('cam-01', 'degraded', { reasons: [changed] });
  f.advance(60_000);
  expect(f.deadLetters.list()).toEqual([]);
  const [ticket, ...others] = f.open();
  expect(others).toEqual([]);
  expect(ticket).toMatchObject({
    deviceId: 'cam-01',
    fault: 'degraded:certificate-changed',
    priority: 'general',
  });
  expect(ticket?.title).toContain('cam-01');
  expect(ticket?.title).toContain('certificate changed');
  const detected = ticket?.timeline[0];
  expect(detected?.text).toContain(`Pinned SHA-256 ${pinned}`);
  expect(detected?.text).toContain(`presented ${presented}`);
  expect(say(detected?.message as Message, 'zh-CN')).toContain(presented);
  // Degraded, not down: no emergency, and the device is not counted as failed.
  expect(f.registry.get('demo-site', 'cam-01')?.status).toBe('degraded');

  // The operator accepted the new certificate: the next poll answers, the reason is gone.
  f.report('cam-01', 'up', { reasons: [] });
  f.advance(1000);
  expect(f.open()).toEqual([]);
  const resolved = f.all().find((t) => t.fault === 'degraded:certificate-changed');
  expect(resolved?.status).toBe('resolved');
});
