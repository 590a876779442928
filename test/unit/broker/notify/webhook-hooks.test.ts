/**
 * The config file's webhooks as outbox channels (broker/notify/webhook.ts): the old keys
 * (`notify.webhooks`, `notify.attempts`, `notify.retryMs`) still read; each ticket change
 * and SLA alert is queued for the hooks that take its type, with the body those hooks
 * always had; a hook's id does not change across restarts; the registry shows the hooks to
 * the outbox only, never to fallbacks or alerts.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../broker/config.js';
import { BrokerEvents } from '../../../../broker/events.js';
import type { OutgoingMessage } from '../../../../broker/notify/deps.js';
import { ConfigWebhooks } from '../../../../broker/notify/webhook.js';
import { slaAlertExample } from '../../../../shared/api/live.js';
import { ticketExample } from '../../../../shared/api/tickets.js';
import { fakeChannel, fakeRegistry } from './fakes.js';

const SECRET = 'a shared secret of the NOC';
const at = new Date('2026-12-06T12:00:00Z');

describe('config-file webhooks', () => {
  it('reads the keys they always had', async () => {
    const { escalation } = resolveConfig(
      {
        notify: {
          webhooks: [{ url: 'https://noc.example.com/hooks/vigil?token=abc', secret: SECRET }],
          attempts: 3,
          retryMs: 200,
        },
      },
      { env: {} },
    );
    expect(escalation.webhooks).toEqual({
      hooks: [{ url: 'https://noc.example.com/hooks/vigil?token=abc', secret: SECRET }],
      attempts: 3,
      retryMs: 200,
    });
    expect(resolveConfig({}, { env: {} }).escalation.webhooks).toEqual({
      hooks: [],
      attempts: 5,
      retryMs: 1000,
    });
  });

  it('queues each event for the hooks that take it, with the body they always had', async () => {
    const config = {
      hooks: [
        { url: 'https://a.example.com/hook?token=t0ken', secret: SECRET, events: ['sla' as const] },
        { url: 'https://b.example.com/hook', secret: SECRET },
      ],
      attempts: 5,
      retryMs: 1000,
    };
    const hooks = new ConfigWebhooks(config);
    const [slaOnly, every] = hooks.ids();
    // Derived from the URL: the rows queued before a restart find their hook again.
    expect(new ConfigWebhooks(config).ids()).toEqual([slaOnly, every]);
    const events = new BrokerEvents();
    const queued: [string, OutgoingMessage][] = [];
    hooks.start(
      events,
      (id, m) => queued.push([id, m]),
      () => at,
    );
    events.emit('ticket', ticketExample);
    events.emit('sla', slaAlertExample);
    expect(queued.map(([id, m]) => [id, m.kind])).toEqual([
      [every, 'ticket'],
      [slaOnly, 'sla'],
      [every, 'sla'],
    ]);
    expect(queued[0]![1].data).toEqual({
      type: 'ticket',
      ticket: ticketExample,
      sentAt: at.toISOString(),
    });
    expect(queued[1]![1].data).toEqual({
      type: 'sla',
      alert: slaAlertExample,
      sentAt: at.toISOString(),
    });
    hooks.stop();
    events.emit('ticket', ticketExample);
    expect(queued).toHaveLength(3);
  });

  it('shows the hooks to the outbox, not to fallbacks, defaults or alerts, and names them without their path', async () => {
    const hooks = new ConfigWebhooks({
      hooks: [{ url: 'https://a.example.com/hook?token=t0ken', secret: SECRET }],
      attempts: 4,
      retryMs: 300,
    });
    const [id] = hooks.ids();
    const registry = hooks.overlay(fakeRegistry([fakeChannel('robot', { default: true })]));
    expect((await registry.list()).map((c) => c.id)).toEqual(['robot']);
    expect((await registry.defaults()).map((c) => c.id)).toEqual(['robot']);
    expect(await registry.get(id!)).toMatchObject({
      type: 'webhook',
      name: 'notify.webhooks[0] https://a.example.com',
    });
    expect(await registry.driver(id!)).toMatchObject({
      type: 'webhook',
      ordered: true,
      retry: { attempts: 4, firstMs: 300 },
    });
    expect((await registry.driver('robot'))?.type).toBe('dingtalk');
  });
});
