/**
 * Outgoing webhooks against a real HTTP receiver on 127.0.0.1: a ticket opening and an
 * SLA breach arrive as signed JSON; a receiver that fails is retried with the same
 * delivery id until it takes it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sign } from '../../../../broker/notify/webhook.js';
import { defaultDeskConfig } from '../../../../broker/wiring/desk-config.js';
import { camera, makeDesk, type DeskFixture } from '../detect/desk-fixture.js';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const SECRET = 'a shared secret of the NOC';

async function receiver(
  failFirst: number,
): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      calls++;
      got.push({ headers: req.headers, body });
      res.statusCode = calls <= failFirst ? 503 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, got };
}

describe('webhook notifications', () => {
  let f: DeskFixture;
  let server: Server | undefined;

  afterEach(async () => {
    await f?.cleanup();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('posts every ticket change and SLA alert as JSON signed with HMAC-SHA256, retrying failures', async () => {
    const hook = await receiver(2);
    server = hook.server;
    f = makeDesk(
      {
        notify: {
          webhooks: [{ url: hook.url, secret: SECRET, events: ['ticket', 'sla'] }],
          attempts: 5,
          retryMs: 20,
        },
      },
      [camera('cam-03')],
    );
    f.report('cam-03', 'down');
    f.advance(3000);
    await f.desk.notifier.idle();
    // Two refusals, then accepted: three tries of one delivery.
    expect(hook.got).toHaveLength(3);
    const ids = new Set(hook.got.map((r) => r.headers['x-vigil-delivery']));
    expect(ids.size).toBe(1);
    for (const request of hook.got) {
      expect(request.headers['x-vigil-signature']).toBe(sign(SECRET, request.body));
      expect(request.headers['content-type']).toBe('application/json');
    }
    const first = JSON.parse(hook.got[0]!.body);
    expect(first).toMatchObject({ type: 'ticket', ticket: { deviceId: 'cam-03', status: 'open' } });
    expect(f.desk.notifier.counters).toMatchObject({ delivered: 1, retried: 2, failed: 0 });

    // The respond deadline passes: the breach goes out as an 'sla' notification.
    f.advance(11 * 60_000);
    await f.desk.notifier.idle();
    const sla = hook.got.map((r) => JSON.parse(r.body)).filter((b) => b.type === 'sla');
    expect(sla.map((b) => b.alert.kind)).toEqual(['warning', 'breach']);
    expect(hook.got.every((r) => r.headers['x-vigil-signature'] === sign(SECRET, r.body))).toBe(
      true,
    );
  });

  it('gives up after the configured attempts and says so without the secret', async () => {
    const hook = await receiver(100);
    server = hook.server;
    f = makeDesk(
      {
        notify: {
          ...defaultDeskConfig.notify,
          webhooks: [{ url: hook.url, secret: SECRET }],
          attempts: 3,
          retryMs: 10,
        },
      },
      [camera('cam-03')],
    );
    f.report('cam-03', 'down');
    f.advance(3000);
    await f.desk.notifier.idle();
    expect(hook.got).toHaveLength(3);
    expect(f.desk.notifier.counters.failed).toBe(1);
    const line = f.logLines.find((l) => l.includes('webhook'));
    expect(line).toMatch(/HTTP 503/);
    expect(line).not.toContain(SECRET);
  });
});
