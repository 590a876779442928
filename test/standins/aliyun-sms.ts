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
 *   of the template; a notification to one number at most 50 times a day (流控,
 *   isv.BUSINESS_LIMIT_CONTROL).
 *
 * Codes and messages from the document's error list (https://help.aliyun.com/document_detail/101346.html).
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
  /** Notifications per number and day; 50 by default. */
  perNumberPerDay?: number;
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

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

const refused = (status: number, Code: string, Message: string): Answer => ({
  status,
  body: { Code, Message, RequestId: 'F655A8D5-B967-440B-8683-DAD6FF8DE990' },
});

export class AliyunSmsStandin extends HttpStandin {
  readonly sent: SmsSent[] = [];
  private readonly nonces = new Set<string>();
  /** "<day> <phone>" -> count. */
  private readonly perDay = new Map<string, number>();

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
    const day = new Date(this.clock() + 8 * 3_600_000).toISOString().slice(0, 10); // China's day
    const cap = this.options.perNumberPerDay ?? 50;
    for (const phone of phones) {
      if ((this.perDay.get(`${day} ${phone}`) ?? 0) >= cap) {
        return refused(200, 'isv.BUSINESS_LIMIT_CONTROL', `触发天级流控Permits:${cap}`);
      }
    }
    for (const phone of phones)
      this.perDay.set(`${day} ${phone}`, (this.perDay.get(`${day} ${phone}`) ?? 0) + 1);
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
