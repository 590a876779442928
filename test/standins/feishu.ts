/**
 * A local Feishu (飞书) custom robot that holds a sender to its document
 * (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot, 自定义机器人使用指南):
 *
 * - POST /open-apis/bot/v2/hook/<hook id>, JSON of at most 20 KB (else 9499 Bad Request);
 * - 签名校验: `timestamp` (seconds) and `sign` in the body, where
 *   sign = base64(HmacSHA256(key = timestamp + "\n" + secret, msg = "")), the timestamp
 *   within 1 hour, else code 19021;
 * - msg_type text {content.text}, post, or interactive {card}; mentions `<at id=ou_…>`
 *   (cards) or `<at user_id="ou_…">` (text);
 * - 100 requests a minute and 5 a second per robot: code 11232 past either.
 */
import { createHmac } from 'node:crypto';
import { HttpStandin, parseJson, type Answer, type Seen } from './server.js';

export interface FeishuMessage {
  msgType: string;
  /** The text a person reads (the card's lark_md, or the text). */
  content: string;
  title: string | undefined;
  /** open_ids mentioned. */
  mentioned: string[];
}

export const FEISHU_ERRORS = {
  badHook: { code: 19001, msg: 'param invalid: incoming webhook access token invalid', data: {} },
  badSign: {
    code: 19021,
    msg: 'sign match fail or timestamp is not within one hour from current time',
    data: {},
  },
  badRequest: { code: 9499, msg: 'Bad Request', data: {} },
  tooFast: { code: 11232, msg: 'frequency limited psm[lark.oapi.app_platform_runtime]', data: {} },
} as const;

export class FeishuStandin extends HttpStandin {
  readonly messages: FeishuMessage[] = [];
  private readonly accepted: number[] = [];

  constructor(
    readonly hookId: string,
    readonly secret: string | null,
    clock?: () => number,
  ) {
    super(clock);
  }

  get url(): string {
    return `${this.origin}/open-apis/bot/v2/hook/${this.hookId}`;
  }

  protected answer(request: Seen): Answer {
    const ok = (body: unknown): Answer => ({ status: 200, body });
    if (request.method !== 'POST' || !request.url.startsWith('/open-apis/bot/v2/hook/')) {
      return { status: 404, body: { code: 404, msg: 'not found' } };
    }
    if (request.url !== `/open-apis/bot/v2/hook/${this.hookId}`) return ok(FEISHU_ERRORS.badHook);
    if (Buffer.byteLength(request.raw, 'utf8') > 20 * 1024) {
      return { status: 400, body: FEISHU_ERRORS.badRequest };
    }
    const body = parseJson(request.raw) as
      | {
          timestamp?: string | number;
          sign?: string;
          msg_type?: string;
          content?: { text?: string };
          card?: {
            header?: { title?: { content?: string } };
            elements?: { tag?: string; text?: { tag?: string; content?: string } }[];
          };
        }
      | undefined;
    if (body === undefined) return { status: 400, body: FEISHU_ERRORS.badRequest };
    if (this.secret !== null) {
      const timestamp = Number(body.timestamp);
      const expected = createHmac('sha256', `${timestamp}\n${this.secret}`)
        .update('')
        .digest('base64');
      if (
        !Number.isFinite(timestamp) ||
        Math.abs(this.clock() / 1000 - timestamp) > 3600 ||
        body.sign !== expected
      ) {
        return ok(FEISHU_ERRORS.badSign);
      }
    }
    const now = this.clock();
    const lastSecond = this.accepted.filter((t) => now - t < 1000).length;
    if (HttpStandin.inLastMinute(this.accepted, now) >= 100 || lastSecond >= 5) {
      return ok(FEISHU_ERRORS.tooFast);
    }
    let content: string | undefined;
    if (body.msg_type === 'text') content = body.content?.text;
    else if (body.msg_type === 'interactive') {
      content = body.card?.elements
        ?.flatMap((e) => (e.text?.content ? [e.text.content] : []))
        .join('\n');
    }
    if (typeof content !== 'string' || content.length === 0) {
      return { status: 400, body: FEISHU_ERRORS.badRequest };
    }
    this.accepted.push(now);
    this.messages.push({
      msgType: body.msg_type!,
      content,
      title: body.card?.header?.title?.content,
      mentioned: [...content.matchAll(/<at (?:id|user_id)="?(ou_[^">\s]+)"?>/g)].map((m) => m[1]!),
    });
    return ok({ code: 0, msg: 'success', data: {} });
  }
}
