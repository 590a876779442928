/**
 * The signed JSON webhook as a channel, and the config file's hooks (broker/notify/webhook.ts)
 * through the same driver (X-Vigil-Signature: sha256=<hex HMAC-SHA256 of the raw body>,
 * X-Vigil-Event, X-Vigil-Delivery), so one receiver checks both. The body is the
 * message's `data` when it has one, else the message itself (title, text, tickets); a
 * config-file hook (`payload: 'data'`) posts its `data` as it is, the body those hooks
 * always had (`{type, ticket | alert, sentAt}`, docs/API.md).
 *
 * X-Vigil-Delivery is the outbox row's stored delivery id, the same on every attempt of
 * one notification and on its repeat after a crash, so a receiver can drop a duplicate
 * (a webhook, unlike the robots, can take an idempotency key). 2xx is delivered; 429 and
 * 5xx are retried; any other status is a refusal.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { httpFailure, isFailure, postJson, urlSecrets, type HttpOptions } from './http.js';
import type { ChannelDriver, DeliveryContext, DeliveryResult, OutgoingMessage } from './types.js';

export const SIGNATURE_HEADER = 'x-vigil-signature';

/** `sha256=<hex HMAC-SHA256 (RFC 2104) of the raw body>`, the secret as key. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookSettings {
  url: string;
  secret: string;
}

export interface WebhookOptions extends HttpOptions {
  now?: () => Date;
  /** 'data': the body is the message's `data` as it is (the config file's hooks). */
  payload?: 'message' | 'data';
  /** Retries of its own instead of the outbox's (the config file's notify.attempts / retryMs). */
  retry?: { attempts: number; firstMs: number };
}

export class WebhookDriver implements ChannelDriver {
  readonly type = 'webhook' as const;
  readonly perMinute = null;
  readonly ordered = true;
  readonly retry: { attempts: number; firstMs: number } | undefined;
  private readonly secrets: string[];

  constructor(
    private readonly settings: WebhookSettings,
    private readonly options: WebhookOptions = {},
  ) {
    this.secrets = [...urlSecrets(settings.url), settings.secret];
    this.retry = options.retry;
  }

  body(message: OutgoingMessage): string {
    if (this.options.payload === 'data') return JSON.stringify(message.data ?? null);
    const sentAt = (this.options.now?.() ?? new Date()).toISOString();
    return JSON.stringify(
      message.data !== undefined
        ? { kind: message.kind, data: message.data, sentAt }
        : {
            kind: message.kind,
            language: message.language,
            title: message.title,
            text: message.text,
            markdown: message.markdown,
            ticketIds: message.ticketIds,
            to: message.to,
            sentAt,
          },
    );
  }

  async send(
    message: OutgoingMessage,
    signal: AbortSignal,
    delivery?: DeliveryContext,
  ): Promise<DeliveryResult> {
    const body = this.body(message);
    const answer = await postJson(this.settings.url, body, signal, this.options, this.secrets, {
      'x-vigil-event': message.kind,
      // Outside the outbox (the channels screen's test button) there is no row to name.
      'x-vigil-delivery': delivery?.deliveryId ?? randomUUID(),
      [SIGNATURE_HEADER]: sign(this.settings.secret, body),
    });
    if (isFailure(answer)) return answer;
    if (answer.status >= 200 && answer.status <= 299) return { delivered: true };
    return httpFailure(answer, this.secrets);
  }
}
