import { describe, expect, it } from 'vitest';
import { contract } from '../../../shared/contract.js';
import {
  LoginLock,
  loginLockExample,
  LoginLocked,
  loginLockedExample,
  loginResponseExample,
  LoginResponse,
} from '../../../shared/api/auth.js';
import { Device, deviceExample } from '../../../shared/api/devices.js';
import { Health, healthExample } from '../../../shared/api/health.js';
import { LiveEvent, liveEventExamples } from '../../../shared/api/live.js';
import { Channel, channelExample, ChannelType } from '../../../shared/api/notify.js';
import { CHANNEL_SETTINGS, CHANNEL_TYPES } from '../../../shared/notify-channels.js';
import { NotifyPolicies, notifyPoliciesExample } from '../../../shared/api/notify-policy.js';
import {
  ManualTicketRequest,
  manualTicketExample,
  manualTicketRequestExample,
  Ticket,
  ticketExample,
} from '../../../shared/api/tickets.js';
import { validator } from '../../../shared/validate.js';

describe('MQTT contract', () => {
  for (const [kind, entry] of Object.entries(contract)) {
    it(`every example of ${kind} passes its schema`, () => {
      const check = validator(entry.schema);
      expect(entry.examples.length).toBeGreaterThan(0);
      for (const example of entry.examples)
        expect(check(example)).toEqual({ ok: true, value: example });
    });
  }

  it('reports every error of a bad device state by path', () => {
    const check = validator(contract.deviceState.schema);
    const result = check({
      ...contract.deviceState.examples[0],
      status: 'on fire',
      seq: -1,
      extra: 1,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        'status: must be one of "up", "degraded", "down", "unknown"',
        expect.stringMatching(/^seq: must be >= 0/),
        '(root): unknown field(s) extra',
      ]),
    );
  });

  it('refuses ids that would break the topic tree', () => {
    const check = validator(contract.deviceMetrics.schema);
    const result = check({ ...contract.deviceMetrics.examples[0], deviceId: 'cam/+' });
    expect(result.ok).toBe(false);
  });
});

describe('API schemas', () => {
  const cases = [
    ['LoginResponse', LoginResponse, [loginResponseExample]],
    ['LoginLock', LoginLock, [loginLockExample]],
    ['LoginLocked', LoginLocked, [loginLockedExample]],
    ['Device', Device, [deviceExample]],
    ['Ticket', Ticket, [ticketExample, manualTicketExample]],
    ['ManualTicketRequest', ManualTicketRequest, [manualTicketRequestExample]],
    ['Health', Health, [healthExample]],
    ['LiveEvent', LiveEvent, liveEventExamples],
    ['Channel', Channel, [channelExample]],
    ['NotifyPolicies', NotifyPolicies, [notifyPoliciesExample]],
  ] as const;
  for (const [name, schema, examples] of cases) {
    it(`the example of ${name} passes its schema`, () => {
      const check = validator(schema);
      for (const example of examples) expect(check(example).ok).toBe(true);
    });
  }
});

describe('validator', () => {
  it('lists every error, not only the first eight', () => {
    const check = validator(contract.deviceState.schema);
    const bad = Object.fromEntries(
      Object.keys(contract.deviceState.examples[0] ?? {}).map((key) => [key, { wrong: true }]),
    );
    const result = check(bad);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.length).toBeGreaterThan(10);
  });
});

describe('notification channel types', () => {
  it('the schema and the schema-free list the console reads name the same types', () => {
    expect(ChannelType.anyOf.map((literal) => literal.const)).toEqual([...CHANNEL_TYPES]);
    expect(Object.keys(CHANNEL_SETTINGS)).toEqual([...CHANNEL_TYPES]);
  });
});
