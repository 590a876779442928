/**
 * The config file's webhooks (`notify.webhooks`): every ticket change and SLA alert as a
 * JSON POST, signed with the hook's shared secret so the receiver can check it came from
 * this broker:
 *
 *   X-Vigil-Event: ticket | sla
 *   X-Vigil-Delivery: <uuid>            the same on every attempt of one notification
 *   X-Vigil-Signature: sha256=<hex>     HMAC-SHA256 (RFC 2104) of the raw body
 *
 * Each hook is a channel of type webhook (./channels/webhook.ts) that lives in the config
 * rather than in the channel table: its notifications are rows of the durable outbox
 * (./outbox.ts) like every other channel's, so a restart or a crash loses none (issue 15
 * part 4: these deliveries used to live in memory), with the outbox's pacing, delivery log
 * and counters, and retries as `notify.attempts` / `notify.retryMs` always said. The id
 * of a hook is derived from its URL, so rows queued before a restart find it again.
 */
import { createHash } from 'node:crypto';
import type { SlaAlert } from '../../shared/api/live.js';
import type { Ticket } from '../../shared/api/tickets.js';
import type { BrokerEvents } from '../events.js';
import { WebhookDriver } from './channels/webhook.js';
import type { HttpOptions } from './channels/http.js';
import type { WebhooksConfig } from './config.js';
import type { ChannelDriver, ChannelInfo, ChannelRegistry, OutgoingMessage } from './deps.js';

export { SIGNATURE_HEADER, sign } from './channels/webhook.js';

export type Notification = { type: 'ticket'; ticket: Ticket } | { type: 'sla'; alert: SlaAlert };

interface Hook {
  info: ChannelInfo;
  events: readonly Notification['type'][];
  driver: ChannelDriver;
}

/** The message a config-file hook carries: its body is `data`, exactly as before. */
export function hookMessage(notification: Notification, at: Date): OutgoingMessage {
  const ticketId =
    notification.type === 'ticket' ? notification.ticket.id : notification.alert.ticketId;
  return {
    kind: notification.type,
    language: 'en',
    title:
      notification.type === 'ticket'
        ? `ticket ${ticketId} ${notification.ticket.status}`
        : `ticket ${ticketId} SLA ${notification.alert.kind}`,
    markdown: '',
    text: '',
    to: [],
    ticketIds: [ticketId],
    // sentAt is when the notification was made, so every attempt posts the same bytes.
    data: { ...notification, sentAt: at.toISOString() },
  };
}

export class ConfigWebhooks {
  private readonly hooks = new Map<string, Hook>();
  private unsubscribe: (() => void) | null = null;

  constructor(config: WebhooksConfig, options: HttpOptions = {}) {
    config.hooks.forEach((hook, index) => {
      const base = `config-webhook-${createHash('sha256').update(hook.url).digest('hex').slice(0, 12)}`;
      let id = base;
      for (let n = 2; this.hooks.has(id); n++) id = `${base}-${n}`;
      this.hooks.set(id, {
        // Named by its place and origin only: a path or query may hold a token.
        info: {
          id,
          name: `notify.webhooks[${index}] ${new URL(hook.url).origin}`,
          type: 'webhook',
          default: false,
          enabled: true,
        },
        events: hook.events ?? ['ticket', 'sla'],
        driver: new WebhookDriver(
          { url: hook.url, secret: hook.secret },
          {
            ...options,
            payload: 'data',
            retry: { attempts: config.attempts, firstMs: config.retryMs },
          },
        ),
      });
    });
  }

  has(channelId: string): boolean {
    return this.hooks.has(channelId);
  }

  ids(): string[] {
    return [...this.hooks.keys()];
  }

  /**
   * The registry the outbox sends through: the channel table's channels and these hooks.
   * `list` and `defaults` stay the table's: a hook takes ticket events, not pages,
   * fallbacks or other channels' alerts.
   */
  overlay(registry: ChannelRegistry): ChannelRegistry {
    return {
      list: () => registry.list(),
      defaults: () => registry.defaults(),
      get: async (id) => this.hooks.get(id)?.info ?? (await registry.get(id)),
      driver: async (id) => this.hooks.get(id)?.driver ?? (await registry.driver(id)),
    };
  }

  /** Queues every ticket change and SLA alert for the hooks that take it. */
  start(
    events: BrokerEvents,
    enqueue: (channelId: string, message: OutgoingMessage) => void,
    now: () => Date,
  ): void {
    if (this.hooks.size === 0) return;
    const send = (notification: Notification) => {
      const message = hookMessage(notification, now());
      for (const [id, hook] of this.hooks)
        if (hook.events.includes(notification.type)) enqueue(id, message);
    };
    const onTicket = (ticket: Ticket) => send({ type: 'ticket', ticket });
    const onSla = (alert: SlaAlert) => send({ type: 'sla', alert });
    events.on('ticket', onTicket);
    events.on('sla', onSla);
    this.unsubscribe = () => {
      events.off('ticket', onTicket);
      events.off('sla', onSla);
    };
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
