/**
 * A local DingTalk group robot (自定义机器人) that holds a sender to what the document
 * says (https://open.dingtalk.com/document/orgapp/custom-robot-access; the limits in
 * https://open.dingtalk.com/document/robots/custom-robot-access, 消息发送频率限制):
 *
 * - POST /robot/send?access_token=<token>[&timestamp=<ms>&sign=<s>], JSON, UTF-8;
 * - with 加签: s = urlencode(base64(HmacSHA256(secret, timestamp + "\n" + secret))), and the
 *   timestamp within 1 hour of the service's clock, else errcode 310000;
 * - msgtype text {content} or markdown {title, text}; `at.atMobiles` mentions only those
 *   whose `@<mobile>` is also in the text (recorded apart: `mentioned`, `notShown`);
 * - at most 20 messages a minute; the 21st blocks the robot for 10 minutes, every
 *   message meanwhile answered errcode 130101.
 *
 * Codes and messages are the documented ones; where the document gives a code without
 * its exact text the message is ours (documented format, not a recorded answer). Real
 * answers seen in public code append a link ("sign not match, more: [https://...]"), and
 * older ones name a wrong token 300001 instead of 300005: a driver keeps whatever text
 * comes and judges by the code.
 */
import { createHmac } from 'node:crypto';
import { HttpStandin, parseJson, type Answer, type Seen } from './server.js';

export interface DingTalkMessage {
  msgtype: string;
  title: string | undefined;
  text: string;
  /** atMobiles (and atUserIds) whose @ is in the text: the mention shows. */
  mentioned: string[];
  /** atMobiles (and atUserIds) whose @ is not in the text: DingTalk shows no mention. */
  notShown: string[];
}

export const DINGTALK_ERRORS = {
  badToken: { errcode: 300005, errmsg: 'token is not exist' },
  badSign: { errcode: 310000, errmsg: 'sign not match' },
  badTimestamp: { errcode: 310000, errmsg: 'invalid timestamp' },
  tooFast: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' },
  missingParam: { errcode: 40035, errmsg: '缺少参数 json' },
} as const;

export class DingTalkStandin extends HttpStandin {
  readonly messages: DingTalkMessage[] = [];
  private readonly accepted: number[] = [];
  private blockedUntil = 0;

  constructor(
    readonly token: string,
    readonly secret: string | null,
    clock?: () => number,
  ) {
    super(clock);
  }

  /** The webhook address as DingTalk shows it, on this server. */
  get url(): string {
    return `${this.origin}/robot/send?access_token=${this.token}`;
  }

  get blocked(): boolean {
    return this.clock() < this.blockedUntil;
  }

  protected answer(request: Seen): Answer {
    const ok = (body: unknown): Answer => ({ status: 200, body });
    const url = new URL(request.url, 'http://robot');
    if (request.method !== 'POST' || url.pathname !== '/robot/send') {
      return { status: 404, body: { errcode: 404, errmsg: 'not found' } };
    }
    if (url.searchParams.get('access_token') !== this.token) return ok(DINGTALK_ERRORS.badToken);
    if (this.secret !== null) {
      const timestamp = Number(url.searchParams.get('timestamp'));
      const sign = url.searchParams.get('sign');
      if (!Number.isFinite(timestamp) || Math.abs(this.clock() - timestamp) > 3_600_000) {
        return ok(DINGTALK_ERRORS.badTimestamp);
      }
      const expected = createHmac('sha256', this.secret)
        .update(`${timestamp}\n${this.secret}`)
        .digest('base64');
      if (sign !== expected) return ok(DINGTALK_ERRORS.badSign);
    }
    const now = this.clock();
    if (now < this.blockedUntil) return ok(DINGTALK_ERRORS.tooFast);
    if (HttpStandin.inLastMinute(this.accepted, now) >= 20) {
      this.blockedUntil = now + 10 * 60_000;
      return ok(DINGTALK_ERRORS.tooFast);
    }
    const body = parseJson(request.raw) as
      | {
          msgtype?: string;
          text?: { content?: string };
          markdown?: { title?: string; text?: string };
          at?: { atMobiles?: string[]; atUserIds?: string[] };
        }
      | undefined;
    let text: string | undefined;
    if (body?.msgtype === 'text') text = body.text?.content;
    else if (body?.msgtype === 'markdown' && body.markdown?.title) text = body.markdown.text;
    if (typeof text !== 'string' || text.length === 0) return ok(DINGTALK_ERRORS.missingParam);
    const named = [...(body?.at?.atMobiles ?? []), ...(body?.at?.atUserIds ?? [])];
    this.accepted.push(now);
    this.messages.push({
      msgtype: body!.msgtype!,
      title: body?.markdown?.title,
      text,
      mentioned: named.filter((who) => text.includes(`@${who}`)),
      notShown: named.filter((who) => !text.includes(`@${who}`)),
    });
    return ok({ errcode: 0, errmsg: 'ok' });
  }
}
