/**
 * A local WeCom (企业微信) group robot that holds a sender to its document
 * (https://developer.work.weixin.qq.com/document/path/91770, 群机器人配置说明):
 *
 * - POST /cgi-bin/webhook/send?key=<key>, JSON; a wrong key answers errcode 93000;
 * - msgtype markdown {content}: at most 4,096 bytes of UTF-8, mentions only by
 *   `<@userid>` in the content (mentioned_mobile_list is not read for markdown);
 * - msgtype text {content, mentioned_list, mentioned_mobile_list}: at most 2,048 bytes;
 * - at most 20 messages a minute: errcode 45009 past it.
 *
 * Codes as documented (全局错误码, https://developer.work.weixin.qq.com/document/path/90313);
 * the message texts of 40058 are ours (documented format).
 */
import { HttpStandin, parseJson, type Answer, type Seen } from './server.js';

export interface WeComMessage {
  msgtype: 'markdown' | 'text';
  content: string;
  /** User ids and mobiles the robot mentions. */
  mentioned: string[];
}

export const WECOM_ERRORS = {
  badKey: {
    errcode: 93000,
    errmsg:
      'invalid webhook url, hint: [1733450000_0_0], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000',
  },
  tooFast: {
    errcode: 45009,
    errmsg:
      'api freq out of limit, more info at https://open.work.weixin.qq.com/devtool/query?e=45009',
  },
  markdownTooLong: { errcode: 40058, errmsg: 'markdown.content exceed max length 4096' },
  textTooLong: { errcode: 40058, errmsg: 'text.content exceed max length 2048' },
  badMsgtype: { errcode: 40008, errmsg: 'invalid message type' },
} as const;

export class WeComStandin extends HttpStandin {
  readonly messages: WeComMessage[] = [];
  private readonly accepted: number[] = [];

  constructor(
    readonly key: string,
    clock?: () => number,
  ) {
    super(clock);
  }

  get url(): string {
    return `${this.origin}/cgi-bin/webhook/send?key=${this.key}`;
  }

  protected answer(request: Seen): Answer {
    const ok = (body: unknown): Answer => ({ status: 200, body });
    const url = new URL(request.url, 'http://robot');
    if (request.method !== 'POST' || url.pathname !== '/cgi-bin/webhook/send') {
      return { status: 404, body: {} };
    }
    if (url.searchParams.get('key') !== this.key) return ok(WECOM_ERRORS.badKey);
    const now = this.clock();
    if (HttpStandin.inLastMinute(this.accepted, now) >= 20) return ok(WECOM_ERRORS.tooFast);
    const body = parseJson(request.raw) as
      | {
          msgtype?: string;
          markdown?: { content?: string };
          text?: { content?: string; mentioned_list?: string[]; mentioned_mobile_list?: string[] };
        }
      | undefined;
    let message: WeComMessage;
    if (body?.msgtype === 'markdown' && typeof body.markdown?.content === 'string') {
      const content = body.markdown.content;
      if (Buffer.byteLength(content, 'utf8') > 4096) return ok(WECOM_ERRORS.markdownTooLong);
      message = {
        msgtype: 'markdown',
        content,
        mentioned: [...content.matchAll(/<@([^>]+)>/g)].map((m) => m[1]!),
      };
    } else if (body?.msgtype === 'text' && typeof body.text?.content === 'string') {
      const content = body.text.content;
      if (Buffer.byteLength(content, 'utf8') > 2048) return ok(WECOM_ERRORS.textTooLong);
      message = {
        msgtype: 'text',
        content,
        mentioned: [
          ...(body.text.mentioned_list ?? []),
          ...(body.text.mentioned_mobile_list ?? []),
        ],
      };
    } else {
      return ok(WECOM_ERRORS.badMsgtype);
    }
    this.accepted.push(now);
    this.messages.push(message);
    return ok({ errcode: 0, errmsg: 'ok' });
  }
}
