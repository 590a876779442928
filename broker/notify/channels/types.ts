/**
 * The channels part of issue 15, as fixed between its three parts (people and rotas,
 * channels, escalation): what a message is, whom it is for, how a channel answers. The
 * escalation engine sees channels only through ChannelRegistry and ChannelDriver.
 */
export type ChannelType = 'dingtalk' | 'wecom' | 'feishu' | 'sms' | 'email' | 'webhook';

/** Whom a message is for; a Person of broker/oncall is assignable to it. */
export interface Recipient {
  name: string;
  phone: string | null;
  email: string | null;
  dingtalkUserId: string | null;
  wecomUserId: string | null;
  feishuOpenId: string | null;
}

/**
 * The variables an SMS template may use (docs/NOTIFY.md). Every message gives all of them:
 * Alibaba Cloud refuses a text whose template names a variable it lacks
 * (isv.TEMPLATE_MISSING_PARAMETERS), so one left out fails every send to such a template.
 */
export const SMS_VARIABLES = [
  'priority',
  'site',
  'device',
  'fault',
  'deadline',
  'count',
  'ticket',
] as const;
export type SmsVariables = Record<(typeof SMS_VARIABLES)[number], string>;

export interface OutgoingMessage {
  kind: 'ticket' | 'sla' | 'digest' | 'test' | 'channel-alert';
  language: 'zh-CN' | 'en';
  /** One plain line. */
  title: string;
  /** Body, channel-neutral markdown (headings, **bold**, [links](url), - lists); drivers adapt and cut to their limits. */
  markdown: string;
  /** Plain text body (email text part, robots' text fallback). */
  text: string;
  /** Robots @-mention them; sms texts their phones; email mails them. */
  to: Recipient[];
  /** Alibaba SMS template variables: every one of SMS_VARIABLES (a message makes them `satisfies SmsVariables`). */
  sms?: Record<string, string>;
  /** The tickets it carries. */
  ticketIds: number[];
  /** The signed webhook's JSON payload. */
  data?: unknown;
  /**
   * What the contract cannot leave unsaid (an emergency, an SLA warning or breach): the
   * outbox does not sit on it behind a long wait of the service (SMS flow control, a
   * robot's block) but gives it up at once, so that the escalation hands it to other
   * channels.
   */
  urgent?: boolean;
}

/** Which notification an attempt carries: the same on every attempt of one outbox row. */
export interface DeliveryContext {
  /** Stored with the row (a UUID): receivers that can deduplicate use it (X-Vigil-Delivery). */
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
}

export type DeliveryResult =
  | { delivered: true }
  | {
      delivered: false;
      code: string;
      message: string;
      retryable: boolean;
      retryAfterMs?: number;
      /**
       * The refusal concerns the recipient, not the channel (one number's SMS flow
       * control): it holds that number's texts and says nothing of the channel's health.
       */
      perRecipient?: boolean;
    };

export interface ChannelDriver {
  readonly type: ChannelType;
  /** The service's documented limit of messages per minute for one channel; null: none. */
  readonly perMinute: number | null;
  /** The service's limit per second as well, when it documents one (Feishu: 5). */
  readonly perSecond?: number;
  /**
   * Sends in the order queued, one at a time: a row waiting for its retry holds the later
   * ones (the webhook, whose receivers may apply ticket changes in the order they come).
   */
  readonly ordered?: boolean;
  /** Retries of its own (the config file's webhooks: `notify.attempts`, `notify.retryMs`). */
  readonly retry?: { attempts: number; firstMs: number };
  /** Never throws: network errors, timeouts, HTTP errors and the services' codes are results. */
  send(
    message: OutgoingMessage,
    signal: AbortSignal,
    delivery?: DeliveryContext,
  ): Promise<DeliveryResult>;
}

export interface ChannelInfo {
  id: string;
  name: string;
  type: ChannelType;
  default: boolean;
  enabled: boolean;
}

/** Read from the stores' database on every call (broker/sql): both nodes of a pair see one table. */
export interface ChannelRegistry {
  list(): Promise<ChannelInfo[]>;
  get(id: string): Promise<ChannelInfo | undefined>;
  /** undefined: unknown or disabled. Rejects when the channel's secrets cannot be opened. */
  driver(id: string): Promise<ChannelDriver | undefined>;
  /** Enabled channels with default: true. */
  defaults(): Promise<ChannelInfo[]>;
}
