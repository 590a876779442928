/**
 * Feishu (飞书) custom robot (自定义机器人), as its document describes it
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, "自定义机器人使用指南"):
 *
 * - POST JSON to https://open.feishu.cn/open-apis/bot/v2/hook/<hook id>; the hook id is
 *   the robot's credential (a secret: masked in everything we return);
 * - 签名校验: `timestamp` (seconds, as a string) and `sign` in the body, where
 *   sign = base64(HmacSHA256(key = timestamp + "\n" + secret, msg = "")); the timestamp
 *   may be at most 1 hour off;
 * - a message card (msg_type interactive) renders our markdown as `lark_md`, where
 *   `<at id=ou_...></at>` mentions a person by open_id;
 * - a request body of at most 20 KB; 100 requests a minute and 5 a second per robot;
 * - answers {code, msg}: 0 success; 19021 sign match fail or timestamp is not within one
 *   hour; 19001 param invalid (the hook); 19024 keywords not found; 11232 frequency
 *   limited (retry later); 9499 bad request. Older answers carry StatusCode instead.
 */
import { createHmac } from 'node:crypto';
import { cutBytes, postJson, robotResult, urlSecrets, type HttpOptions } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

export interface FeishuSettings {
  /** The robot's webhook address (…/open-apis/bot/v2/hook/<id>), on any host. */
  url: string;
  /** The 签名校验 secret; absent when the robot checks keywords or IPs instead. */
  secret?: string | null;
}

export const FEISHU_PER_MINUTE = 100;
export const FEISHU_PER_SECOND = 5;
export const FEISHU_MAX_BODY_BYTES = 20 * 1024;
const FREQUENCY_LIMITED = 11232;

export function feishuSign(secret: string, timestampS: number): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

export class FeishuDriver implements ChannelDriver {
  readonly type = 'feishu' as const;
  readonly perMinute = FEISHU_PER_MINUTE;
  /** "100 次/分钟，5 次/秒" (自定义机器人使用指南, 频率限制): the outbox's burst stays within it. */
  readonly perSecond = FEISHU_PER_SECOND;
  private readonly secrets: string[];

  constructor(
    private readonly settings: FeishuSettings,
    private readonly options: HttpOptions & { now?: () => number } = {},
  ) {
    this.secrets = [...urlSecrets(settings.url), ...(settings.secret ? [settings.secret] : [])];
  }

  body(message: OutgoingMessage): Record<string, unknown> {
    const mentions = message.to
      .flatMap((r) => (r.feishuOpenId ? [`<at id=${r.feishuOpenId}></at>`] : []))
      .join(' ');
    // The card's JSON escapes and the signature fields take room: 4 KB of margin.
    const room = FEISHU_MAX_BODY_BYTES - 4096 - Buffer.byteLength(mentions);
    const content = cutBytes(message.markdown, room) + (mentions ? `\n${mentions}` : '');
    const body: Record<string, unknown> = {
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        // Red for what pages someone, blue for a test or a digest.
        header: {
          title: { tag: 'plain_text', content: message.title },
          template: message.kind === 'test' || message.kind === 'digest' ? 'blue' : 'red',
        },
        elements: [{ tag: 'div', text: { tag: 'lark_md', content } }],
      },
    };
    if (this.settings.secret) {
      const timestamp = Math.floor((this.options.now ?? Date.now)() / 1000);
      body.timestamp = String(timestamp);
      body.sign = feishuSign(this.settings.secret, timestamp);
    }
    return body;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    const answer = await postJson(
      this.settings.url,
      this.body(message),
      signal,
      this.options,
      this.secrets,
    );
    return robotResult(
      answer,
      this.secrets,
      'Feishu',
      // Older answers carry StatusCode and StatusMessage instead of code and msg.
      (body) => ({ code: body.code ?? body.StatusCode, message: body.msg ?? body.StatusMessage }),
      { [FREQUENCY_LIMITED]: 60_000 },
    );
  }
}
