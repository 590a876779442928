/**
 * Outgoing notifications: every ticket change and SLA alert as a JSON POST to the
 * configured webhooks, signed with the hook's shared secret so the receiver can check
 * it came from this broker:
 *
 *   X-Vigil-Event: ticket | sla
 *   X-Vigil-Delivery: <uuid>            the same on every retry of one delivery
 *   X-Vigil-Signature: sha256=<hex>     HMAC-SHA256 (RFC 2104) of the raw body
 *
 * A delivery that fails (network error, HTTP status other than 2xx) is retried with
 * doubling waits up to `attempts`, then logged and dropped; deliveries of one hook go
 * one at a time, in order. The secret never appears in a log line.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { SlaAlert } from '../../shared/api/live.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { BrokerEvents } from '../events.js';
import type { Log } from '../log.js';
import type { NotifyConfig, Webhook } from './config.js';

export type Notification = { type: 'ticket'; ticket: Ticket } | { type: 'sla'; alert: SlaAlert };

export const SIGNATURE_HEADER = 'x-vigil-signature';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

interface Delivery {
  id: string;
  hook: Webhook;
  event: Notification['type'];
  body: string;
}

export class WebhookNotifier {
  private readonly queues = new Map<Webhook, Promise<void>>();
  private readonly controller = new AbortController();
  private unsubscribe: (() => void) | null = null;
  /** Deliveries that succeeded and that were given up, for health and tests. */
  readonly counters = { delivered: 0, failed: 0, retried: 0 };

  constructor(
    private readonly events: BrokerEvents,
    private readonly config: NotifyConfig,
    private readonly log: Log,
  ) {}

  start(): void {
    if (this.config.webhooks.length === 0) return;
    const onTicket = (ticket: Ticket) => this.send({ type: 'ticket', ticket });
    const onSla = (alert: SlaAlert) => this.send({ type: 'sla', alert });
    this.events.on('ticket', onTicket);
    this.events.on('sla', onSla);
    this.unsubscribe = () => {
      this.events.off('ticket', onTicket);
      this.events.off('sla', onSla);
    };
  }

  /** Stops listening and abandons the retries still waiting. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.controller.abort();
    await Promise.allSettled([...this.queues.values()]);
  }

  /** Resolves once every queued delivery has succeeded or been given up. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  send(notification: Notification): void {
    const body = JSON.stringify({ ...notification, sentAt: new Date().toISOString() });
    for (const hook of this.config.webhooks) {
      if (hook.events && !hook.events.includes(notification.type)) continue;
      const delivery: Delivery = { id: randomUUID(), hook, event: notification.type, body };
      const previous = this.queues.get(hook) ?? Promise.resolve();
      const next = previous.then(() => this.deliver(delivery));
      this.queues.set(hook, next);
      void next.then(() => {
        if (this.queues.get(hook) === next) this.queues.delete(hook);
      });
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const signal = this.controller.signal;
    let wait = this.config.retryMs;
    for (let attempt = 1; attempt <= this.config.attempts && !signal.aborted; attempt++) {
      let problem: string;
      try {
        const response = await fetch(delivery.hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-vigil-event': delivery.event,
            'x-vigil-delivery': delivery.id,
            [SIGNATURE_HEADER]: sign(delivery.hook.secret, delivery.body),
          },
          body: delivery.body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.counters.delivered++;
          return;
        }
        problem = `HTTP ${response.status}`;
      } catch (error) {
        if (signal.aborted) return;
        problem = error instanceof Error ? error.message : String(error);
      }
      if (attempt === this.config.attempts) {
        this.counters.failed++;
        this.log.warn(
          `webhook ${new URL(delivery.hook.url).origin} refused ${delivery.event} delivery ${delivery.id} ${attempt} times (${problem}); dropped. Check the receiver.`,
        );
        return;
      }
      this.counters.retried++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      wait *= 2;
    }
  }
}
