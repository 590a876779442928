import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../../../shared/api/auth.js';
import { deviceExample } from '../../../../shared/api/devices.js';
import { LiveEvent, slaAlertExample } from '../../../../shared/api/live.js';
import { maintenanceExample } from '../../../../shared/api/maintenance.js';
import { apiRoutes } from '../../../../shared/api/routes.js';
import { validator } from '../../../../shared/validate.js';
import { startApi } from '../../../../broker/api/server.js';
import { eventually } from '../../../helpers/eventually.js';
import { makeFixture, OPERATOR, type Fixture } from './fixture.js';
import { deviceDown } from '../../../../broker/detect/rules/device-down.js';

const checkEvent = validator(LiveEvent);

/** Reads a server-sent event stream block by block, as EventSource does. */
class SseReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** The next block (the lines up to a blank line), or null at the end of the stream. */
  async next(): Promise<string | null> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return block;
      }
      const { value, done } = await this.reader.read();
      if (done) return null;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** The next block that is an event (not a comment), as { event, data }. */
  async nextEvent(): Promise<{ event: string; data: unknown }> {
    for (;;) {
      const block = await this.next();
      if (block === null) throw new Error('the stream ended');
      const lines = block.split('\n').filter((line) => !line.startsWith(':'));
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event !== undefined && data !== undefined) return { event, data: JSON.parse(data) };
    }
  }
}

describe('live stream over a real port', () => {
  let fx: Fixture;
  let api: { url: string; close(): Promise<void> };
  let cookie: string;
  const aborts: AbortController[] = [];

  async function openStream(headers: Record<string, string> = { cookie }) {
    const abort = new AbortController();
    aborts.push(abort);
    const res = await fetch(`${api.url}${apiRoutes.live}`, { headers, signal: abort.signal });
    return { res, abort };
  }

  beforeEach(async () => {
    fx = await makeFixture();
    fx.deps.liveHeartbeatMs = 100;
    api = await startApi(fx.deps, { host: '127.0.0.1', port: 0 });
    const login = await fetch(`${api.url}${apiRoutes.login}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OPERATOR),
    });
    expect(login.status).toBe(200);
    // What a browser sends back: name=value of the Set-Cookie header.
    cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
  });

  afterEach(async () => {
    for (const abort of aborts.splice(0)) abort.abort();
    await api.close();
    fx.cleanup();
  });

  it('delivers device and ticket events to a client logged in with the cookie', async () => {
    const { res } = await openStream();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const sse = new SseReader(res.body!.getReader());
    expect(await sse.next()).toBe('retry: 3000\n: connected');
    await eventually('the stream to subscribe', () => fx.deps.events.listenerCount('ticket') === 1);

    const device = { ...deviceExample, status: 'down' as const };
    fx.deps.events.emit('device', device);
    const [ticket] = await fx.deps.tickets.apply(deviceDown(device, fx.clock.now));

    const first = await sse.nextEvent();
    expect(first).toEqual({ event: 'device', data: { type: 'device', device } });
    expect(checkEvent(first.data).ok).toBe(true);
    const second = await sse.nextEvent();
    expect(second).toEqual({ event: 'ticket', data: { type: 'ticket', ticket } });
    expect(checkEvent(second.data).ok).toBe(true);
  });

  it('delivers SLA alerts and maintenance changes', async () => {
    const { res } = await openStream();
    const sse = new SseReader(res.body!.getReader());
    await sse.next();
    await eventually('the stream to subscribe', () => fx.deps.events.listenerCount('sla') === 1);
    fx.deps.events.emit('sla', slaAlertExample);
    fx.deps.events.emit('maintenance', maintenanceExample);
    const alert = await sse.nextEvent();
    expect(alert).toEqual({ event: 'sla', data: { type: 'sla', alert: slaAlertExample } });
    expect(checkEvent(alert.data).ok).toBe(true);
    const window = await sse.nextEvent();
    expect(window).toEqual({
      event: 'maintenance',
      data: { type: 'maintenance', window: maintenanceExample },
    });
    expect(checkEvent(window.data).ok).toBe(true);
  });

  it('sends a heartbeat comment on an idle stream', async () => {
    const { res } = await openStream();
    const sse = new SseReader(res.body!.getReader());
    await sse.next();
    expect(await sse.next()).toBe(': heartbeat');
  });

  it('refuses a client without a session', async () => {
    const { res } = await openStream({});
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'VIGIL_AUTH_REQUIRED' });
  });

  it('removes its listeners when the client goes', async () => {
    const { res, abort } = await openStream();
    const sse = new SseReader(res.body!.getReader());
    await sse.next();
    await eventually('the stream to subscribe', () => fx.deps.events.listenerCount('ticket') === 1);
    abort.abort();
    await eventually(
      'the listeners to go',
      () => fx.deps.events.listenerCount('ticket') + fx.deps.events.listenerCount('device') === 0,
    );
  });

  it('ends open streams when the API closes, so closing does not hang', async () => {
    const { res } = await openStream();
    const sse = new SseReader(res.body!.getReader());
    await sse.next();
    const started = Date.now();
    await api.close();
    expect(Date.now() - started).toBeLessThan(2000);
    // Drain: the server ended the stream (heartbeats may come before the end).
    let block: string | null = '';
    while (block !== null) block = await sse.next();
    expect(fx.deps.events.listenerCount('ticket')).toBe(0);
    api = { url: api.url, close: async () => {} };
  });
});
