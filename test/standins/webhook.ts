/**
 * A receiver of Vigil's signed webhook: checks X-Vigil-Signature (sha256=<hex HMAC-SHA256
 * of the raw body>, broker/notify/webhook.ts) and answers 401 when it does not match, as
 * a receiver should.
 */
import { createHmac } from 'node:crypto';
import { HttpStandin, parseJson, type Answer, type Seen } from './server.js';

export class WebhookStandin extends HttpStandin {
  readonly bodies: unknown[] = [];

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
    if (!request.headers['x-vigil-delivery'] || !request.headers['x-vigil-event']) {
      return { status: 400, body: { error: 'missing X-Vigil-Delivery or X-Vigil-Event' } };
    }
    this.bodies.push(parseJson(request.raw));
    return { status: 200, body: { ok: true } };
  }
}
