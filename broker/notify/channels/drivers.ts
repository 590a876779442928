/**
 * One explicit list: channel type -> its driver (STYLE habit 2), built from a channel's
 * full settings (secrets included). The store calls it; tests build drivers directly.
 */
import { REQUIRED_SETTINGS } from '../../../shared/notify-channels.js';
import { AlibabaSms } from './alibaba.js';
import { DingTalkDriver } from './dingtalk.js';
import { EmailDriver, type EmailTls } from './email.js';
import { FeishuDriver } from './feishu.js';
import { SmsDriver } from './sms.js';
import type { ChannelDriver, ChannelType } from './types.js';
import { WebhookDriver } from './webhook.js';
import { WeComDriver } from './wecom.js';

/** Every setting of every type; each type reads its own (checked by `missingSettings`). */
export interface ChannelSettings {
  url?: string;
  secret?: string | null;
  provider?: 'alibaba';
  accessKeyId?: string;
  accessKeySecret?: string;
  signName?: string;
  templateCode?: string;
  endpoint?: string | null;
  host?: string;
  port?: number;
  tls?: EmailTls;
  user?: string | null;
  passwordFile?: string | null;
  from?: string;
  to?: string[] | null;
  allowSelfSigned?: boolean | null;
}

// Which settings are secrets and which are required: shared/notify-channels.ts, the one
// home the console's form reads too.
export { SECRET_SETTINGS } from '../../../shared/notify-channels.js';

export interface DriverOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export function missingSettings(type: ChannelType, settings: ChannelSettings): string[] {
  const given = settings as Record<string, unknown>;
  const missing = REQUIRED_SETTINGS[type]
    .filter((key) => given[key] === undefined || given[key] === null || given[key] === '')
    .map((key) => `${key}: required for a ${type} channel`);
  if (type === 'webhook' && settings.secret && settings.secret.length < 16) {
    missing.push('secret: at least 16 characters for a webhook (the HMAC key)');
  }
  return missing;
}

/** The documented messages per minute of one channel of the type; null: none. */
export const PER_MINUTE: Record<ChannelType, number | null> = {
  dingtalk: 20,
  wecom: 20,
  feishu: 100,
  sms: null,
  email: null,
  webhook: null,
};

export function createDriver(
  type: ChannelType,
  s: ChannelSettings,
  options: DriverOptions = {},
): ChannelDriver {
  switch (type) {
    case 'dingtalk':
      return new DingTalkDriver({ url: s.url!, secret: s.secret ?? null }, options);
    case 'wecom':
      return new WeComDriver({ url: s.url! }, options);
    case 'feishu':
      return new FeishuDriver({ url: s.url!, secret: s.secret ?? null }, options);
    case 'sms':
      return new SmsDriver(
        new AlibabaSms(
          {
            accessKeyId: s.accessKeyId!,
            accessKeySecret: s.accessKeySecret!,
            signName: s.signName!,
            templateCode: s.templateCode!,
            endpoint: s.endpoint ?? null,
          },
          options,
        ),
      );
    case 'email':
      return new EmailDriver(
        {
          host: s.host!,
          port: s.port!,
          tls: s.tls ?? (s.port === 465 ? 'implicit' : 'starttls'),
          user: s.user ?? null,
          passwordFile: s.passwordFile ?? null,
          from: s.from!,
          to: s.to ?? null,
          allowSelfSigned: s.allowSelfSigned ?? null,
        },
        options,
      );
    case 'webhook':
      return new WebhookDriver({ url: s.url!, secret: s.secret! }, options);
  }
}
