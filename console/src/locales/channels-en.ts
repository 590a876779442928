/**
 * English texts of the notification channels screen, kept beside en.ts so that the
 * catalog holds them under `channels`; channels-zh-CN.ts has the same keys.
 */
export const channelsEn = {
  nav: 'Channels',
  title: 'Notification channels',
  adminOnly: 'Only an admin sees and changes notification channels: they hold secrets.',
  empty:
    'No channel yet. Add the group robot your engineers carry, so a new emergency pages someone.',
  types: {
    dingtalk: 'DingTalk robot',
    wecom: 'WeCom robot',
    feishu: 'Feishu robot',
    sms: 'SMS (Alibaba Cloud)',
    email: 'Email (SMTP)',
    webhook: 'Signed webhook',
  } as Readonly<Record<string, string>>,
  name: 'Name',
  type: 'Type',
  address: 'Address',
  isDefault: 'Default',
  defaultHint:
    'A default channel gets every emergency, SLA warning and breach of the sites no escalation policy covers.',
  enabled: 'Enabled',
  perMinute: 'Limit',
  perMinuteValue: (n: number | null) => (n === null ? '–' : `${n} / min`),
  yes: 'yes',
  no: 'no',
  unreadable:
    'Cannot send: its token and secret cannot be decrypted (the broker runs with another VIGIL_SECRETS_KEY). Start the broker with the key that sealed them, or edit the channel and enter them again.',
  deliveries: {
    show: 'Delivery log',
    hide: 'Hide delivery log',
    empty: 'Nothing sent through this channel yet.',
    kinds: {
      ticket: 'page',
      sla: 'SLA alert',
      digest: 'digest',
      test: 'test',
      'channel-alert': 'channel alert',
    } as Readonly<Record<string, string>>,
    states: {
      pending: 'waiting',
      sending: 'sending',
      delivered: 'delivered',
      failed: 'failed',
      merged: 'merged into a digest',
    } as Readonly<Record<string, string>>,
    tickets: (ids: readonly number[]) =>
      ids.length === 0 ? '' : ids.map((id) => `#${id}`).join(' '),
    attempts: (n: number) => (n === 1 ? '1 attempt' : `${n} attempts`),
    repeated: 'sent again after a broker crash',
  },
  add: 'Add channel',
  edit: 'Edit',
  save: 'Save',
  cancel: 'Cancel',
  remove: 'Delete',
  removeConfirm: (name: string) => `Delete the channel "${name}"? Messages no longer go to it.`,
  secretKept: 'kept; type a new one to replace it',
  fields: {
    url: 'Webhook URL (as the app shows it)',
    secret: 'Signing secret',
    accessKeyId: 'AccessKey ID',
    accessKeySecret: 'AccessKey secret',
    signName: 'Sign name (approved)',
    templateCode: 'Template code (approved, SMS_…)',
    endpoint: 'Endpoint (empty: dysmsapi.aliyuncs.com)',
    host: 'SMTP host',
    port: 'Port',
    tls: 'TLS',
    user: 'User',
    passwordFile: 'Password file on the broker',
    from: 'From',
    to: 'Also mail (comma-separated)',
  } as Readonly<Record<string, string>>,
  tls: { implicit: 'TLS (465)', starttls: 'STARTTLS (587)', none: 'none' } as Readonly<
    Record<string, string>
  >,
  test: {
    button: 'Send test',
    phone: 'Mobile to mention or text',
    email: 'Email to mail',
    sending: 'Sending…',
    delivered: 'Delivered: the service accepted the test message.',
    refused: (code: string, message: string) => `The service refused it: ${code} ${message}`,
  },
};
