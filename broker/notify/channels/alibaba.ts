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
 * Codes worth another try, with the wait: flow control per number (1 a minute, 5 an
 * hour for the same number and template, the document's 流控) and the platform's own
 * errors. Every other code is a refusal a person must fix (sign, template, key, balance).
 */
const RETRY: Record<string, number> = {
  'isv.BUSINESS_LIMIT_CONTROL': 60 * 60_000,
  'isp.SYSTEM_ERROR': 60_000,
  Throttling: 60_000,
  ServiceUnavailable: 60_000,
};

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
        const wait = RETRY[code];
        return failure(code || 'bad-answer', message, wait !== undefined, wait);
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
        const wait = RETRY[code] ?? (e.statusCode >= 500 ? 60_000 : undefined);
        return failure(code, message, wait !== undefined, wait);
      },
    );
    return Promise.race([sent, aborted]);
  }
}
