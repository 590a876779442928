/**
 * Notifications of issue 15: schemas of the API.
 *
 * This file has two sections, one per part of issue 15: the channels (below, owned by
 * the channels part: broker/notify/channels/, broker/api/notify-channels.ts) and the
 * escalation policies (added after it by the escalation part). Keep each section
 * together.
 */
import { Type, type Static } from 'typebox';
import { Timestamp } from '../ids.js';
import { Nullable } from './common.js';

// ---------------------------------------------------------------------------------------
// Channels: where notifications go (DingTalk, WeCom, Feishu robots, SMS, email, webhook).
// ---------------------------------------------------------------------------------------

export { notifyChannelRoutes, notifyChannelPath } from './routes.js';

/**
 * The types of shared/notify-channels.ts CHANNEL_TYPES, the list the console's form reads
 * (test/unit/shared/contract.test.ts holds the two to the same names).
 */
export const ChannelType = Type.Union([
  Type.Literal('dingtalk'),
  Type.Literal('wecom'),
  Type.Literal('feishu'),
  Type.Literal('sms'),
  Type.Literal('email'),
  Type.Literal('webhook'),
]);
export type ChannelType = Static<typeof ChannelType>;

export const EmailTls = Type.Union([
  Type.Literal('implicit'),
  Type.Literal('starttls'),
  Type.Literal('none'),
]);

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const Url = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2000 });

/**
 * The settings of a channel, each used by the types named. Which are required is checked
 * per type by the store (every missing one listed): dingtalk, wecom, feishu: url (secret
 * for a signing robot); sms: accessKeyId, accessKeySecret, signName, templateCode;
 * email: host, port, from; webhook: url, secret (16 characters or more).
 */
const settings = {
  /** dingtalk, wecom, feishu, webhook: the webhook address as pasted, on any host. Secret (its token). */
  url: Type.Optional(Url),
  /** dingtalk (加签 "SEC..."), feishu (签名校验), webhook (HMAC key). Secret. */
  secret: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  /** sms: the provider; only "alibaba" so far. */
  provider: Type.Optional(Type.Literal('alibaba')),
  accessKeyId: Type.Optional(Text(200)),
  /** sms: Alibaba Cloud AccessKey secret. Secret. */
  accessKeySecret: Type.Optional(Text(200)),
  /** sms: the approved sign name (短信签名). */
  signName: Type.Optional(Text(100)),
  /** sms: the approved template (模板 CODE, "SMS_..."). */
  templateCode: Type.Optional(Text(100)),
  /** sms: the API endpoint; https://dysmsapi.aliyuncs.com by default. */
  endpoint: Type.Optional(Nullable(Url)),
  /** email: SMTP server. */
  host: Type.Optional(Text(255)),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  tls: Type.Optional(EmailTls),
  user: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  /** email: a file on the broker holding the SMTP password. Secret (not returned). */
  passwordFile: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  from: Type.Optional(Text(255)),
  /** email: addresses that get every message besides the recipients' own. */
  to: Type.Optional(Nullable(Type.Array(Type.String({ format: 'email' }), { maxItems: 50 }))),
  allowSelfSigned: Type.Optional(Nullable(Type.Boolean())),
};

/** POST /api/notify/channels (admin). */
export const NewChannel = Type.Object(
  {
    name: Text(100),
    type: ChannelType,
    /** Receives every emergency, SLA warning and breach no escalation policy covers. */
    default: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
    ...settings,
  },
  { additionalProperties: false },
);
export type NewChannel = Static<typeof NewChannel>;

/**
 * PATCH /api/notify/channels/:id (admin): the fields given change; a secret left out (or
 * sent back masked, with "…") keeps its value; null clears an optional one.
 */
export const ChannelPatch = Type.Object(
  {
    name: Type.Optional(Text(100)),
    default: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
    ...settings,
    url: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ChannelPatch = Static<typeof ChannelPatch>;

/** A channel as the API shows it: secrets masked ("abcd…wxyz") or only said to be set. */
export const Channel = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: ChannelType,
  default: Type.Boolean(),
  enabled: Type.Boolean(),
  /** The webhook address with its token masked. */
  url: Type.Optional(Type.String()),
  /** Masked. */
  secret: Type.Optional(Nullable(Type.String())),
  provider: Type.Optional(Type.String()),
  accessKeyId: Type.Optional(Type.String()),
  /** Masked. */
  accessKeySecret: Type.Optional(Type.String()),
  signName: Type.Optional(Type.String()),
  templateCode: Type.Optional(Type.String()),
  endpoint: Type.Optional(Nullable(Type.String())),
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  tls: Type.Optional(EmailTls),
  user: Type.Optional(Nullable(Type.String())),
  /** Whether a password file is set; its path is not shown. */
  passwordFileSet: Type.Optional(Type.Boolean()),
  from: Type.Optional(Type.String()),
  to: Type.Optional(Nullable(Type.Array(Type.String()))),
  allowSelfSigned: Type.Optional(Nullable(Type.Boolean())),
  /** The service's documented messages per minute for one channel; null: none. */
  perMinute: Nullable(Type.Integer()),
  /**
   * Why the channel cannot send, when its stored secrets cannot be read (the broker runs
   * with another VIGIL_SECRETS_KEY than the one that sealed them): what to do, no secret.
   */
  problem: Type.Optional(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Channel = Static<typeof Channel>;
export const ChannelList = Type.Array(Channel);

export const ChannelParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/**
 * One notification of a channel's delivery log (the outbox, broker/notify/outbox.ts):
 * what it carried and what became of it, never its text, which holds live acknowledge
 * links.
 */
export const ChannelDelivery = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  ticketIds: Type.Array(Type.Integer()),
  state: Type.Union([
    Type.Literal('pending'),
    Type.Literal('sending'),
    Type.Literal('delivered'),
    Type.Literal('failed'),
    Type.Literal('merged'),
  ]),
  attempts: Type.Integer({ minimum: 0 }),
  /** The service's code and message of the last failure; null when none. */
  errorCode: Nullable(Type.String()),
  errorMessage: Nullable(Type.String()),
  createdAt: Timestamp,
  sentAt: Nullable(Timestamp),
  /** Sent again after a crash found it in flight (the robots take no idempotency key). */
  repeated: Type.Boolean(),
  /** The digest it was folded into, by the channel's pace. */
  mergedInto: Nullable(Type.Integer()),
});
export type ChannelDelivery = Static<typeof ChannelDelivery>;
export const ChannelDeliveryList = Type.Array(ChannelDelivery);
export const ChannelDeliveryQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) },
  { additionalProperties: false },
);

/**
 * POST /api/notify/channels/:id/test (admin): a test message; robots mention, SMS texts
 * and email mails whom is named here (SMS and email need someone).
 */
export const ChannelTest = Type.Object(
  {
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9]{5,20}$' })),
    email: Type.Optional(Type.String({ format: 'email' })),
    language: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')])),
  },
  { additionalProperties: false },
);
export type ChannelTest = Static<typeof ChannelTest>;

/** 200 {delivered: true}; 502 with the service's own code and message. */
export const ChannelTestResult = Type.Union([
  Type.Object({ delivered: Type.Literal(true) }),
  Type.Object({
    delivered: Type.Literal(false),
    code: Type.String(),
    message: Type.String(),
    retryable: Type.Boolean(),
  }),
]);
export type ChannelTestResult = Static<typeof ChannelTestResult>;

export const channelExample: Channel = {
  id: 'dingtalk-noc',
  name: 'NOC DingTalk group',
  type: 'dingtalk',
  default: true,
  enabled: true,
  url: 'https://oapi.dingtalk.com/robot/send?access_token=abcd…wxyz',
  secret: 'SEC1…9f0e',
  perMinute: 20,
  createdAt: '2026-12-06T08:00:00.000Z',
  updatedAt: '2026-12-06T08:00:00.000Z',
};

// ---------------------------------------------------------------------------------------
// Escalation policies: who is paged when, per priority (GET/PUT /api/notify/policies).
// Kept in their own module so that each part commits only its own file.
// ---------------------------------------------------------------------------------------

export * from './notify-policy.js';
