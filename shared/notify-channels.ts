/**
 * What each kind of notification channel takes, in one place for the broker (its store
 * and API: broker/notify/channels/) and the console's channel form: the types, the
 * settings of each in the form's order, which of them are secrets (stored apart,
 * encrypted with VIGIL_SECRETS_KEY, never returned: a robot's URL carries its token), and
 * which are required. Schema-free, like ticket-workflow.ts, so the console imports it at
 * runtime; shared/api/notify.ts holds the schemas, which must list the same types.
 */

export const CHANNEL_TYPES = ['dingtalk', 'wecom', 'feishu', 'sms', 'email', 'webhook'] as const;
export type ChannelTypeName = (typeof CHANNEL_TYPES)[number];

/** The settings that are secrets: stored apart (encrypted with a key) and never returned. */
export const SECRET_SETTINGS = ['url', 'secret', 'accessKeySecret', 'passwordFile'] as const;

export function isSecretSetting(key: string): key is (typeof SECRET_SETTINGS)[number] {
  return (SECRET_SETTINGS as readonly string[]).includes(key);
}

/** The settings of each type, in the order the console's form shows them. */
export const CHANNEL_SETTINGS: Readonly<Record<ChannelTypeName, readonly string[]>> = {
  dingtalk: ['url', 'secret'],
  wecom: ['url'],
  feishu: ['url', 'secret'],
  sms: ['accessKeyId', 'accessKeySecret', 'signName', 'templateCode', 'endpoint'],
  email: ['host', 'port', 'tls', 'user', 'passwordFile', 'from', 'to'],
  webhook: ['url', 'secret'],
};

/** What each type needs; the store refuses a channel missing any (all listed). */
export const REQUIRED_SETTINGS: Readonly<Record<ChannelTypeName, readonly string[]>> = {
  dingtalk: ['url'],
  wecom: ['url'],
  feishu: ['url'],
  sms: ['accessKeyId', 'accessKeySecret', 'signName', 'templateCode'],
  email: ['host', 'port', 'from'],
  webhook: ['url', 'secret'],
};
