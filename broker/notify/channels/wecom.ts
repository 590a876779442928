/**
 * WeCom (企业微信) group robot, as its document describes it
 * (https://developer.work.weixin.qq.com/document/path/91770, "群机器人配置说明"):
 *
 * - POST JSON to https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>; the key is
 *   the robot's only credential (a secret: masked in everything we return);
 * - msgtype markdown: content at most 4,096 bytes of UTF-8; it cannot carry
 *   mentioned_mobile_list, only `<@userid>` in the content;
 * - msgtype text: content at most 2,048 bytes, with `mentioned_list` (user ids) and
 *   `mentioned_mobile_list` (mobiles): how a person known only by phone is mentioned;
 * - at most 20 messages a minute per robot;
 * - answers {errcode, errmsg}: 0 success, 93000 invalid webhook url (a wrong or deleted
 *   key), 45009 api freq out of limit (wait and retry), -1 system busy (retry)
 *   (https://developer.work.weixin.qq.com/document/path/90313, 全局错误码).
 */
import { cutBytes, postJson, robotResult, urlSecrets, type HttpOptions } from './http.js';
import type { ChannelDriver, DeliveryResult, OutgoingMessage } from './types.js';

export interface WeComSettings {
  /** The robot's webhook address (…/cgi-bin/webhook/send?key=…), on any host. */
  url: string;
}

/** 18 a minute, under the document's 20 (every robot, 消息发送频率限制): see dingtalk.ts. */
export const WECOM_PER_MINUTE = 18;
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
export const WECOM_TEXT_MAX_BYTES = 2048;
const FREQ_OUT_OF_LIMIT = 45009;
const BUSY = -1;

export class WeComDriver implements ChannelDriver {
  readonly type = 'wecom' as const;
  readonly perMinute = WECOM_PER_MINUTE;
  private readonly secrets: string[];

  constructor(
    private readonly settings: WeComSettings,
    private readonly options: HttpOptions = {},
  ) {
    this.secrets = urlSecrets(settings.url);
  }

  /**
   * Markdown when every person to mention has a WeCom user id (`<@userid>` in the
   * content); text with mentioned_mobile_list when someone is known only by phone, so
   * the mention still reaches them.
   */
  body(message: OutgoingMessage): unknown {
    const byPhoneOnly = message.to.filter((r) => !r.wecomUserId && r.phone);
    const userIds = message.to.flatMap((r) => (r.wecomUserId ? [r.wecomUserId] : []));
    if (byPhoneOnly.length === 0) {
      const mentions = userIds.map((id) => `<@${id}>`).join(' ');
      const room = WECOM_MARKDOWN_MAX_BYTES - (mentions ? Buffer.byteLength(mentions) + 2 : 0);
      const head = `**${message.title}**\n`;
      const content = cutBytes(head + message.markdown, room);
      return {
        msgtype: 'markdown',
        markdown: { content: mentions ? `${content}\n\n${mentions}` : content },
      };
    }
    return {
      msgtype: 'text',
      text: {
        content: cutBytes(`${message.title}\n${message.text}`, WECOM_TEXT_MAX_BYTES),
        mentioned_list: userIds,
        mentioned_mobile_list: message.to.flatMap((r) =>
          !r.wecomUserId && r.phone ? [r.phone] : [],
        ),
      },
    };
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
      'WeCom',
      (body) => ({ code: body.errcode, message: body.errmsg }),
      { [FREQ_OUT_OF_LIMIT]: 60_000, [BUSY]: null },
    );
  }
}
