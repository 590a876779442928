/**
 * A local Alibaba Cloud SMS endpoint (dysmsapi, API version 2017-05-25) that checks what
 * the documents say:
 *
 * - the V3 signature (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature):
 *   Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<a;b>,Signature=<hex>,
 *   Signature = hex(HMAC-SHA256(AccessKeySecret, "ACS3-HMAC-SHA256\n" + hex(SHA256(CanonicalRequest)))),
 *   CanonicalRequest = method \n URI \n sorted RFC 3986-encoded query \n "name:value\n" of each
 *   signed header (lower case, sorted) \n SignedHeaders \n hex(SHA256(body)) (= x-acs-content-sha256);
 *   x-acs-date within 15 minutes, each x-acs-signature-nonce used once;
 * - SendSms (https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms):
 *   PhoneNumbers (mainland mobiles, comma-separated, up to 1,000), SignName and
 *   TemplateCode approved, TemplateParam JSON with string values naming every variable
 *   of the template, each at most 35 characters (isv.PARAM_LENGTH_LIMIT);
 * - flow control per number (短信发送频率限制, https://help.aliyun.com/document_detail/2881383.html):
 *   a notification to one number at most 50 times in 24 hours by default, and the limits
 *   per minute and hour an account may set in the console, each answered
 *   isv.BUSINESS_LIMIT_CONTROL with the level in its message ("触发分钟级流控Permits:1",
 *   "触发小时级流控Permits:5", "触发天级流控Permits:50"); only accepted texts count;
 * - the account's own daily total set in the console: isv.DAY_LIMIT_CONTROL (触发日发送限额).
 *
 * Codes and messages from the document's error list (https://help.aliyun.com/document_detail/101346.html,
 * 国内消息API错误码); the flow-control messages as the service words them in answers quoted
 * publicly (the level, then "Permits:" and the limit).
 */
import { createHash, createHmac } from 'node:crypto';
import { HttpStandin, type Answer, type Seen } from './server.js';

export interface SmsSent {
  phones: string[];
  signName: string;
  templateCode: string;
  params: Record<string, string>;
}

export interface AliyunSmsOptions {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  templateCode: string;
  /** The template's variables, each required in TemplateParam. */
  variables: string[];
  /** Notifications per number in 24 hours; 50 by default. */
  perNumberPerDay?: number;
  /** Per number and minute, as set in the console; none by default. */
  perNumberPerMinute?: number;
  /** Per number and hour, as set in the console; none by default. */
  perNumberPerHour?: number;
  /** The account's texts per day, as set in the console (安全设置); none by default. */
  accountPerDay?: number;
  clock?: () => number;
}

/**
 * Percent-encoding as Alibaba Cloud's signature documents it: only A-Z a-z 0-9 - _ . ~ stay
 * as they are, every other byte is %XY, a space %20 ("Signature mechanism" / "V3版本请求体&
 * 签名机制", help.aliyun.com). encodeURIComponent leaves ! ' ( ) * as they are: those too.
 */
const encode = (s: string): string =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** The provider's day: the 24 hours before the send ("天的计算方式是从发送时间起24小时内"). */
const DAY_MS = 24 * 3_600_000;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

const refused = (status: number, Code: string, Message: string): Answer => ({
  status,
  body: { Code, Message, RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990' },
});

export class AliyunSmsStandin extends HttpStandin {
  readonly sent: SmsSent[] = [];
  private readonly nonces = new Set<string>();
  /** Per phone: when each accepted text was taken (ms). */
  private readonly taken = new Map<string, number[]>();

  constructor(readonly options: AliyunSmsOptions) {
    super(options.clock);
  }

  /** The endpoint to configure in place of https://dysmsapi.aliyuncs.com. */
  get endpoint(): string {
    return this.origin;
  }

  protected answer(request: Seen): Answer {
    const url = new URL(request.url, 'http://sms');
    const header = (name: string): string => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(',') : (value ?? '');
    };
    // --- the signature ---
    const auth =
      /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)$/.exec(
        header('authorization'),
      );
    if (!auth)
      return refused(400, 'MissingAuthorization', 'Authorization is mandatory for this action.');
    const [, keyId, signedHeaders, signature] = auth;
    if (keyId !== this.options.accessKeyId) {
      return refused(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    }
    const date = Date.parse(header('x-acs-date'));
    if (!Number.isFinite(date) || Math.abs(this.clock() - date) > 15 * 60_000) {
      return refused(
        400,
        'InvalidTimeStamp.Expired',
        'Specified time stamp or date value is expired.',
      );
    }
    const nonce = header('x-acs-signature-nonce');
    if (!nonce)
      return refused(400, 'MissingSignatureNonce', 'SignatureNonce is mandatory for this action.');
    if (this.nonces.has(nonce)) {
      return refused(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    }
    const payloadHash = sha256(request.raw);
    if (header('x-acs-content-sha256') !== payloadHash) {
      return refused(
        400,
        'IncompleteSignature',
        'The request signature does not conform to Aliyun standards.',
      );
    }
    const names = signedHeaders!.split(';');
    for (const required of [
      'host',
      'x-acs-action',
      'x-acs-content-sha256',
      'x-acs-date',
      'x-acs-signature-nonce',
      'x-acs-version',
    ]) {
      if (!names.includes(required)) {
        return refused(
          400,
          'IncompleteSignature',
          'The request signature does not conform to Aliyun standards.',
        );
      }
    }
    const query = [...url.searchParams]
      .map(([k, v]) => [encode(k), encode(v)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');
    const canonical = [
      request.method,
      url.pathname,
      query,
      names.map((name) => `${name}:${header(name).trim()}\n`).join(''),
      signedHeaders,
      payloadHash,
    ].join('\n');
    const expected = createHmac('sha256', this.options.accessKeySecret)
      .update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`)
      .digest('hex');
    if (signature !== expected) {
      return refused(
        400,
        'SignatureDoesNotMatch',
        'Specified signature is not matched with our calculation.',
      );
    }
    this.nonces.add(nonce);
    if (header('x-acs-action') !== 'SendSms' || header('x-acs-version') !== '2017-05-25') {
      return refused(
        400,
        'InvalidAction.NotFound',
        'Specified api is not found, please check your url and method.',
      );
    }
    // --- SendSms ---
    const form = new URLSearchParams(request.raw);
    const param = (name: string): string => url.searchParams.get(name) ?? form.get(name) ?? '';
    const phones = param('PhoneNumbers').split(',').filter(Boolean);
    if (phones.length === 0)
      return refused(400, 'MissingPhoneNumbers', 'PhoneNumbers is mandatory for this action.');
    if (phones.length > 1000)
      return refused(200, 'isv.MOBILE_COUNT_OVER_LIMIT', '手机号码数量超过限制');
    if (phones.some((p) => !/^(?:\+?86)?1\d{10}$/.test(p)))
      return refused(200, 'isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
    if (param('SignName') !== this.options.signName)
      return refused(200, 'isv.SMS_SIGNATURE_ILLEGAL', '该账号下找不到对应签名');
    if (param('TemplateCode') !== this.options.templateCode)
      return refused(200, 'isv.SMS_TEMPLATE_ILLEGAL', '该账号下找不到对应模板');
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(param('TemplateParam') || '{}') as Record<string, unknown>;
    } catch {
      return refused(200, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
    }
    if (Object.values(params).some((v) => typeof v !== 'string')) {
      return refused(200, 'isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
    }
    if (this.options.variables.some((v) => !(v in params))) {
      return refused(200, 'isv.TEMPLATE_MISSING_PARAMETERS', '模板变量缺少对应参数值');
    }
    if (Object.values(params).some((v) => [...(v as string)].length > 35)) {
      return refused(200, 'isv.PARAM_LENGTH_LIMIT', '参数超出长度限制');
    }
    const now = this.clock();
    const today = [...this.taken.values()].flat().filter((t) => t > now - DAY_MS).length;
    if (
      this.options.accountPerDay !== undefined &&
      today + phones.length > this.options.accountPerDay
    )
      return refused(200, 'isv.DAY_LIMIT_CONTROL', '触发日发送限额');
    const levels = [
      ['分钟级', 60_000, this.options.perNumberPerMinute],
      ['小时级', 3_600_000, this.options.perNumberPerHour],
      ['天级', DAY_MS, this.options.perNumberPerDay ?? 50],
    ] as const;
    for (const phone of phones) {
      const times = this.taken.get(phone) ?? [];
      for (const [level, span, cap] of levels) {
        if (cap !== undefined && times.filter((t) => t > now - span).length >= cap)
          return refused(200, 'isv.BUSINESS_LIMIT_CONTROL', `触发${level}流控Permits:${cap}`);
      }
    }
    for (const phone of phones) this.taken.set(phone, [...(this.taken.get(phone) ?? []), now]);
    this.sent.push({
      phones,
      signName: param('SignName'),
      templateCode: param('TemplateCode'),
      params: params as Record<string, string>,
    });
    return {
      status: 200,
      body: {
        Code: 'OK',
        Message: 'OK',
        BizId: `${this.sent.length}^0`,
        RequestId: 'A2D4C6E8-0000-4000-8000-000000000001',
      },
    };
  }
}
