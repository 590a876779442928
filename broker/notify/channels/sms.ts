/**
 * SMS through a provider: the driver picks the phones and the template variables out of
 * the message; the provider (./alibaba.ts first) talks to its service. Providers cap
 * SMS per number per day (Alibaba Cloud: 50 notifications a day per number, sign and
 * template), so the escalation sends digests rather than one text per alert.
 */
import { failure } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

/** One send: the same template to every phone (Alibaba SendSms takes up to 1,000). */
export interface SmsRequest {
  phones: string[];
  /** Template variables; every value a string (Alibaba refuses others: isv.INVALID_JSON_PARAM). */
  params: Record<string, string>;
}

export interface SmsProvider {
  readonly name: string;
  /** Never throws, like a driver. */
  send(request: SmsRequest, signal: AbortSignal): Promise<DeliveryResult>;
}

/**
 * Template variables: the message's own (`sms`), else what the plain text gives. A
 * template variable is at most 35 characters for a notification template (Alibaba's
 * 短信模板规范), so values are cut there.
 */
export function smsParams(message: OutgoingMessage): Record<string, string> {
  const params = message.sms ?? {
    count: String(message.ticketIds.length),
    fault: message.title,
  };
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => [key, [...value].slice(0, 35).join('')]),
  );
}

export class SmsDriver implements ChannelDriver {
  readonly type = 'sms' as const;
  /** No per-minute limit per channel; the caps are per number and day (see above). */
  readonly perMinute = null;

  constructor(private readonly provider: SmsProvider) {}

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const phones = [...new Set(message.to.flatMap((r) => (r.phone ? [r.phone] : [])))];
    if (phones.length === 0) {
      return failure(
        'no-recipient',
        'Nobody this message is for has a phone number; add one to the person.',
        false,
      );
    }
    return this.provider.send({ phones, params: smsParams(message) }, signal);
  }
}
