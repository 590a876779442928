/**
 * The signed JSON webhook as a channel: the same signature as the config-file hooks of
 * broker/notify/webhook.ts (X-Vigil-Signature: sha256=<hex HMAC-SHA256 of the raw body>,
 * X-Vigil-Event, X-Vigil-Delivery), so one receiver checks both. The body is the
 * message's `data` when it has one, else the message itself (title, text, tickets).
 * 2xx is delivered; 429 and 5xx are retried; any other status is a refusal.
 */
import { randomUUID } from 'node:crypto';
import { SIGNATURE_HEADER, sign } from '../webhook.js';
import { httpFailure, isFailure, postJson, urlSecrets, type HttpOptions } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

export interface WebhookSettings {
  url: string;
  secret: string;
}

export class WebhookDriver implements ChannelDriver {
  readonly type = 'webhook' as const;
  readonly perMinute = null;
  private readonly secrets: string[];

  constructor(
    private readonly settings: WebhookSettings,
    private readonly options: HttpOptions & { now?: () => Date } = {},
  ) {
    this.secrets = [...urlSecrets(settings.url), settings.secret];
  }

  body(message: OutgoingMessage): string {
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

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const body = this.body(message);
    const answer = await postJson(this.settings.url, body, signal, this.options, this.secrets, {
      'x-vigil-event': message.kind,
      'x-vigil-delivery': randomUUID(),
      [SIGNATURE_HEADER]: sign(this.settings.secret, body),
    });
    if (isFailure(answer)) return answer;
    if (answer.status >= 200 && answer.status <= 299) return { delivered: true };
    return httpFailure(answer, this.secrets);
  }
}
