/**
 * DingTalk group robot (自定义机器人), as its document describes it
 * (https://open.dingtalk.com/document/orgapp/custom-robot-access, "自定义机器人发送群消息";
 * https://open.dingtalk.com/document/robots/custom-robot-access):
 *
 * - POST JSON to the robot's webhook URL (https://oapi.dingtalk.com/robot/send?access_token=...);
 * - 加签 (signing): append `&timestamp=<ms>&sign=<s>`, where
 *   s = urlencode(base64(HmacSHA256(key = secret, msg = timestamp + "\n" + secret)));
 *   the timestamp may be at most 1 hour off the service's clock;
 * - msgtype markdown {title, text}; `at.atMobiles` (and `at.atUserIds`) name whom to
 *   mention, and the mention shows only when the text also contains `@<mobile>` (`@<userId>`);
 * - every answer is HTTP 200 with {errcode, errmsg}: 0 is success; 310000 is a refused
 *   security check (sign not match, timestamp out of range, keyword, IP); 130101 is
 *   "send too fast": at most 20 messages a minute per robot, and past that the robot is
 *   blocked for 10 minutes.
 *
 * The access_token is a secret: it appears masked, or not at all, in what we return.
 */
import { createHmac } from 'node:crypto';
import { cutBytes, failure, postJson, robotResult, urlSecrets, type HttpOptions } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

export interface DingTalkSettings {
  /** The robot's webhook address as DingTalk shows it, on any host (proxies, tests). */
  url: string;
  /** The 加签 secret ("SEC..."); absent when the robot checks keywords or IPs instead. */
  secret?: string | null;
}

/**
 * What we send per robot in any 60 s: 18, under the document's 20 a minute (消息发送频率
 * 限制), since past it DingTalk blocks the robot for 10 minutes and its own window's
 * alignment is not documented: two spare, so a test-send or a clock edge never costs the
 * on-call robot ten minutes at 3 a.m.
 */
export const DINGTALK_PER_MINUTE = 18;
/** Past the limit DingTalk blocks the robot for 10 minutes. */
export const DINGTALK_BLOCK_MS = 10 * 60_000;
/**
 * The document names no limit for markdown text; a long digest is cut at 18 KB so the
 * request stays under the 20 KB body that the robots of DingTalk and Feishu accept.
 */
const MAX_TEXT_BYTES = 18_000;

/** The service's codes we act on; any other non-zero code is a refusal kept as given. */
const TOO_FAST = 130101;
/** -1: system busy (全局返回码): worth another try. */
const BUSY = -1;

export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

export class DingTalkDriver implements ChannelDriver {
  readonly type = 'dingtalk' as const;
  readonly perMinute = DINGTALK_PER_MINUTE;
  private readonly secrets: string[];

  constructor(
    private readonly settings: DingTalkSettings,
    private readonly options: HttpOptions & { now?: () => number } = {},
  ) {
    this.secrets = [...urlSecrets(settings.url), ...(settings.secret ? [settings.secret] : [])];
  }

  /** The request body the robot expects, with the mentions in both places. */
  body(message: OutgoingMessage): unknown {
    const mobiles = message.to.flatMap((r) => (r.phone ? [r.phone] : []));
    const userIds = message.to.flatMap((r) =>
      !r.phone && r.dingtalkUserId ? [r.dingtalkUserId] : [],
    );
    const mentions = [...mobiles, ...userIds].map((who) => `@${who}`).join(' ');
    const text = cutBytes(message.markdown, MAX_TEXT_BYTES - Buffer.byteLength(mentions) - 4);
    return {
      msgtype: 'markdown',
      markdown: { title: message.title, text: mentions ? `${text}\n\n${mentions}` : text },
      at: { atMobiles: mobiles, atUserIds: userIds, isAtAll: false },
    };
  }

  /** The webhook URL with timestamp and sign added when the robot signs. */
  signedUrl(): string {
    if (!this.settings.secret) return this.settings.url;
    const url = new URL(this.settings.url);
    const timestamp = (this.options.now ?? Date.now)();
    url.searchParams.set('timestamp', String(timestamp));
    // URLSearchParams percent-encodes '+', '/' and '=' as the document's urlEncode does.
    url.searchParams.set('sign', dingtalkSign(this.settings.secret, timestamp));
    return url.toString();
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult> {
    let url: string;
    try {
      url = this.signedUrl();
    } catch {
      return failure('bad-url', 'The robot URL is not a valid URL; paste it again.', false);
    }
    const answer = await postJson(url, this.body(message), signal, this.options, this.secrets);
    return robotResult(
      answer,
      this.secrets,
      'DingTalk',
      (body) => ({ code: body.errcode, message: body.errmsg }),
      // The robot is blocked for 10 minutes: a try sooner would only fail again.
      { [TOO_FAST]: DINGTALK_BLOCK_MS, [BUSY]: null },
    );
  }
}
