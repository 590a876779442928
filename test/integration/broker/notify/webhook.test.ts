/**
 * The config file's webhooks (`notify.webhooks`) through the whole broker (broker/app.ts)
 * and its durable outbox, against a receiver that checks the signature
 * (test/standins/webhook.ts): a ticket opening arrives as signed JSON in the body those
 * hooks always had; a receiver that fails is retried under the same X-Vigil-Delivery;
 * a notification still undelivered when the broker stops is delivered after its restart,
 * under the same id (these deliveries lived in memory before, review 15 finding 13), and
 * GET /api/health counts them per channel type.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../../../broker/app.js';
import { deviceDown } from '../../../../broker/detect/rules/device-down.js';
import type { Log } from '../../../../broker/log.js';
import type { Health } from '../../../../shared/api/health.js';
import { startTestBroker, type TestBrokerSettings } from '../../../helpers/broker.js';
import { eventually } from '../../../helpers/eventually.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';
import { camera } from './camera.js';
import { WebhookStandin } from '../../../standins/webhook.js';

const SECRET = 'a shared secret of the NOC';

const settings = (url: string, attempts = 5): TestBrokerSettings => ({
  notify: {
    webhooks: [{ url, secret: SECRET, events: ['ticket'] }],
    attempts,
    retryMs: 50,
  },
});

async function health(broker: RunningBroker): Promise<Health> {
  return (await (await fetch(`${broker.httpUrl}/api/health`)).json()) as Health;
}

describe('config-file webhooks through the outbox', () => {
  let receiver: WebhookStandin | undefined;
  let broker: RunningBroker | null = null;
  let dir: TempDir | undefined;

  afterEach(async () => {
    await broker?.stop();
    broker = null;
    await receiver?.stop();
    await dir?.remove();
  });

  it('posts each ticket change signed, in the body it always had, retried under one delivery id', async () => {
    receiver = await new WebhookStandin(SECRET).start();
    receiver.failNext = 2;
    broker = await startTestBroker({ settings: settings(receiver.url) });
    const [ticket] = await broker.tickets.apply(deviceDown(camera('cam-03'), new Date()));
    const first = await eventually('the opening arrives', () => receiver!.deliveries[0]);
    expect(first.event).toBe('ticket');
    expect(first.body).toMatchObject({
      type: 'ticket',
      ticket: { id: ticket!.id, deviceId: 'cam-03', status: 'open' },
      sentAt: expect.any(String) as string,
    });
    // Two 503s, then accepted: three requests of one notification, one id.
    const tries = receiver.requests.filter((r) => r.headers['x-vigil-delivery'] === first.id);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((r) => r.raw)).size).toBe(1);
    expect(receiver.duplicates).toBe(0);
    // Each change of the ticket is one notification (its timeline says nobody was paged,
    // no channel being set up: a second one).
    const counts = await eventually('counted', async () => {
      const c = (await health(broker!)).notify!.outbox.webhook!;
      return c.pending === 0 && c;
    });
    expect(counts).toMatchObject({ delivered: receiver.deliveries.length, retried: 2, failed: 0 });
  });

  it('delivers after a restart what a stopped broker had not, under the same delivery id', async () => {
    receiver = await new WebhookStandin(SECRET).start();
    receiver.failNext = 1_000;
    dir = await tempDir('vigil-hooks-');
    broker = await startTestBroker({ settings: settings(receiver.url, 20), dataDir: dir.path });
    await broker.tickets.apply(deviceDown(camera('cam-04'), new Date()));
    await eventually('the receiver refused it', () => receiver!.requests.length > 0);
    const id = receiver.requests[0]!.headers['x-vigil-delivery'];
    await broker.stop();
    broker = null;

    receiver.failNext = 0;
    broker = await startTestBroker({ settings: settings(receiver.url, 20), dataDir: dir.path });
    const delivered = await eventually('delivered after the restart', () =>
      receiver!.deliveries.find((d) => d.id === id),
    );
    expect(delivered.body).toMatchObject({ type: 'ticket', ticket: { deviceId: 'cam-04' } });
    const after = await eventually('counted', async () => {
      const c = (await health(broker!)).notify!.outbox.webhook!;
      return c.pending === 0 && c;
    });
    expect(after.delivered).toBe(receiver.deliveries.length);
    expect(after.retried).toBeGreaterThan(0);
    expect(receiver.duplicates).toBe(0);
  });

  it('gives up after notify.attempts and says so without the secret', async () => {
    receiver = await new WebhookStandin(SECRET).start();
    receiver.failNext = 1_000;
    const lines: string[] = [];
    const log: Log = {
      info: () => {},
      warn: (line) => lines.push(line),
      error: (line) => lines.push(line),
    };
    broker = await startTestBroker({ settings: settings(receiver.url, 3), log });
    await broker.tickets.apply(deviceDown(camera('cam-05'), new Date()));
    await eventually('given up', async () => {
      const c = (await health(broker!)).notify!.outbox.webhook;
      return c !== undefined && c.failed > 0 && c.pending === 0;
    });
    // Every notification tried exactly notify.attempts times.
    const ids = receiver.requests.map((r) => r.headers['x-vigil-delivery'] as string);
    for (const id of new Set(ids)) expect(ids.filter((x) => x === id)).toHaveLength(3);
    const line = lines.find((l) => l.includes('given up'));
    expect(line).toMatch(/http-503/);
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});
