/**
 * A receiver of Vigil's signed webhook: checks X-Vigil-Signature (sha256=<hex HMAC-SHA256
 * of the raw body>, broker/notify/channels/webhook.ts) and answers 401 when it does not
 * match, as a receiver should. It keeps every accepted delivery with its X-Vigil-Delivery
 * and X-Vigil-Event, and counts the deliveries it had accepted already (what a receiver
 * that deduplicates by the delivery id would drop). `failNext` answers 503 to that many
 * requests first: a receiver down for a while.
 */
import { createHmac } from 'node:crypto';
import { HttpStandin, parseJson, type Answer, type Seen } from './server.js';

export interface Delivery {
  id: string;
  event: string;
  body: unknown;
}

export class WebhookStandin extends HttpStandin {
  readonly bodies: unknown[] = [];
  readonly deliveries: Delivery[] = [];
  /** Accepted again under an id already accepted. */
  duplicates = 0;
  /** Requests still to answer 503. */
  failNext = 0;

  constructor(readonly secret: string) {
    super();
  }

  get url(): string {
    return `${this.origin}/hooks/vigil`;
  }

  protected answer(request: Seen): Answer {
    const expected = `sha256=${createHmac('sha256', this.secret).update(request.raw).digest('hex')}`;
    if (request.headers['x-vigil-signature'] !== expected) {
      return { status: 401, body: { error: 'bad signature' } };
    }
    const id = request.headers['x-vigil-delivery'];
    const event = request.headers['x-vigil-event'];
    if (typeof id !== 'string' || !id || typeof event !== 'string' || !event) {
      return { status: 400, body: { error: 'missing X-Vigil-Delivery or X-Vigil-Event' } };
    }
    if (this.failNext > 0) {
      this.failNext -= 1;
      return { status: 503, body: { error: 'receiver busy' } };
    }
    if (this.deliveries.some((d) => d.id === id)) this.duplicates += 1;
    const body = parseJson(request.raw);
    this.bodies.push(body);
    this.deliveries.push({ id, event, body });
    return { status: 200, body: { ok: true } };
  }
}
