/**
 * Alibaba Cloud SMS (短信服务) SendSms, through Alibaba Cloud's own SDK
 * (@alicloud/dysmsapi20170525 on @alicloud/openapi-client; this file is its only
 * importer). The API as documented
 * (https://help.aliyun.com/zh/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms):
 * PhoneNumbers (comma-separated, up to 1,000), SignName (an approved sign), TemplateCode
 * (an approved template), TemplateParam (JSON of string values); the answer's Code is
 * "OK" on success, otherwise an error code and Message
 * (https://help.aliyun.com/document_detail/101346.html, API错误码). The SDK signs each
 * request with V3 ACS3-HMAC-SHA256 (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature),
 * which the local stand-in (test/standins/aliyun-sms.ts) checks.
 */
import DysmsapiModule, { SendSmsRequest } from '@alicloud/dysmsapi20170525';
import { failure, REQUEST_TIMEOUT_MS, scrub } from './http.js';
import type { SmsProvider, SmsRequest } from './sms.js';
import type { DeliveryResult } from './types.js';

export interface AlibabaSmsSettings {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  templateCode: string;
  /** https://dysmsapi.aliyuncs.com by default; a proxy or the test stand-in otherwise. */
  endpoint?: string | null;
}

export const ALIBABA_ENDPOINT = 'https://dysmsapi.aliyuncs.com';

/**
 * Codes worth another try, with the wait: the platform's own errors. Flow control of a
 * number has its own rule (`flowControl`); every other code is a refusal a person must
 * fix (sign, template, key, balance; isv.DAY_LIMIT_CONTROL / isv.MONTH_LIMIT_CONTROL, the
 * account's own daily or monthly total set in the console, "触发日发送限额", API错误码).
 */
const RETRY: Record<string, number> = {
  'isp.SYSTEM_ERROR': 60_000,
  Throttling: 60_000,
  ServiceUnavailable: 60_000,
};

export const FLOW_CONTROL = 'isv.BUSINESS_LIMIT_CONTROL';

/**
 * isv.BUSINESS_LIMIT_CONTROL is the flow control of one number (短信发送频率限制,
 * https://help.aliyun.com/document_detail/2881383.html: per sign and number for codes, per
 * sign, template and number for notifications, 50 a day by default, limits an account may
 * set per minute, hour and day). Its message names the level that refused it:
 * "触发分钟级流控Permits:1", "触发小时级流控Permits:5", "触发天级流控Permits:50" (the
 * day being the 24 hours before the send). Only accepted texts count towards the limits
 * ("短信提交成功就会计入短信发送流控"), so a refused one costs nothing:
 *
 * - minute level: again after 60 s, when the minute has passed;
 * - hour level: again after an hour;
 * - day level: given up now; the next day is too late for a page, and the robots carry it;
 * - a message naming no level: as the minute level, the shortest.
 *
 * It concerns that number only (`perRecipient`): the others' texts go on, and the
 * channel is not failing. An emergency does not sit out the wait either way: past
 * notify.outbox.urgentMaxWaitS the outbox hands it to other channels.
 */
export function flowControl(message: string): { retryable: boolean; retryAfterMs?: number } {
  if (/天级|\bday\b/i.test(message)) return { retryable: false };
  if (/小时级|\bhour\b/i.test(message)) return { retryable: true, retryAfterMs: 60 * 60_000 };
  return { retryable: true, retryAfterMs: 60_000 };
}

function refusal(code: string, message: string, wait: number | undefined): DeliveryResult {
  if (code === FLOW_CONTROL) {
    const rule = flowControl(message);
    return { ...failure(code, message, rule.retryable, rule.retryAfterMs), perRecipient: true };
  }
  return failure(code || 'bad-answer', message, wait !== undefined, wait);
}

// A CommonJS module whose class is its `default` export: Node's ESM sees the whole
// module (the class under .default), bundlers and vitest the class itself.
const Dysmsapi =
  (DysmsapiModule as unknown as { default?: typeof DysmsapiModule.default }).default ??
  (DysmsapiModule as unknown as typeof DysmsapiModule.default);
type SdkClient = InstanceType<typeof Dysmsapi>;

export class AlibabaSms implements SmsProvider {
  readonly name = 'alibaba';
  private client: SdkClient | null = null;

  constructor(
    private readonly settings: AlibabaSmsSettings,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  private sdk(): SdkClient {
    if (this.client) return this.client;
    const endpoint = new URL(this.settings.endpoint || ALIBABA_ENDPOINT);
    // The SDK's Config is a plain record of these fields (openapi-core Config).
    const config = {
      accessKeyId: this.settings.accessKeyId,
      accessKeySecret: this.settings.accessKeySecret,
      endpoint: endpoint.host,
      protocol: endpoint.protocol.replace(':', ''),
    } as unknown as ConstructorParameters<typeof Dysmsapi>[0];
    this.client = new Dysmsapi(config);
    return this.client;
  }

  async send(request: SmsRequest, signal: AbortSignal): Promise<DeliveryResult> {
    const secrets = [this.settings.accessKeySecret];
    const timeoutMs = this.options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    if (signal.aborted)
      return failure('aborted', 'The delivery was stopped (the broker is stopping).', true);
    let client: SdkClient;
    try {
      new URL(this.settings.endpoint || ALIBABA_ENDPOINT);
    } catch {
      return failure('bad-endpoint', 'The SMS endpoint is not a valid URL.', false);
    }
    try {
      client = this.sdk();
    } catch (error) {
      return failure(
        'sdk',
        scrub(
          `The Alibaba Cloud SDK refused the settings: ${error instanceof Error ? error.message : String(error)}`,
          secrets,
        ),
        false,
      );
    }
    const sendRequest = new SendSmsRequest({
      phoneNumbers: request.phones.join(','),
      signName: this.settings.signName,
      templateCode: this.settings.templateCode,
      templateParam: JSON.stringify(request.params),
    });
    // The SDK takes no AbortSignal: the broker's stop answers at once, the request ends
    // by its own read timeout.
    const aborted = new Promise<DeliveryResult>((resolve) =>
      signal.addEventListener(
        'abort',
        () =>
          resolve(failure('aborted', 'The delivery was stopped (the broker is stopping).', true)),
        { once: true },
      ),
    );
    const runtime = {
      readTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      autoretry: false,
    } as unknown as Parameters<SdkClient['sendSmsWithOptions']>[1];
    const sent = client.sendSmsWithOptions(sendRequest, runtime).then(
      (response): DeliveryResult => {
        const code = response.body?.code ?? '';
        if (code === 'OK') return { delivered: true };
        const message = scrub(response.body?.message ?? '', secrets);
        return refusal(code, message, RETRY[code]);
      },
      (error: unknown): DeliveryResult => {
        const e = error as {
          name?: string;
          code?: string;
          statusCode?: number;
          data?: { Message?: string };
        };
        if (e.name === 'RequestTimeoutError') {
          return failure(
            'timeout',
            `Alibaba Cloud SMS did not answer within ${timeoutMs / 1000} s; it is retried.`,
            true,
          );
        }
        if (e.statusCode === undefined) {
          // No answer at all: refused, unreachable, or the name did not resolve.
          return failure(
            'network',
            `Alibaba Cloud SMS could not be reached (${e.code ?? 'no answer'}); check the endpoint and the network.`,
            true,
          );
        }
        const code = e.code ?? `http-${e.statusCode}`;
        const message = scrub(e.data?.Message ?? `HTTP ${e.statusCode}`, secrets);
        return refusal(code, message, RETRY[code] ?? (e.statusCode >= 500 ? 60_000 : undefined));
      },
    );
    return Promise.race([sent, aborted]);
  }
}
