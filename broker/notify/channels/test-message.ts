/**
 * The message of the console's test-send button, in the language the admin picks. It
 * mentions or texts whom the admin names, so an @-mention, an SMS or a mail can be
 * checked end to end. (The escalation's real messages are rendered from shared/wording/.)
 */
import type { OutgoingMessage, Recipient, SmsVariables } from './types.js';

const words = {
  'zh-CN': {
    title: 'Vigil 测试消息',
    body: (name: string) =>
      `这是通知渠道「${name}」的测试消息。收到即表示 Vigil 能通过它找到值班人员，无需回复。`,
  },
  en: {
    title: 'Vigil test message',
    body: (name: string) =>
      `This is a test of the notification channel "${name}". If it reached you, Vigil can page the on-call engineer through it; no reply needed.`,
  },
} as const;

export function testMessage(
  channelName: string,
  to: { phone?: string; email?: string },
  language: 'zh-CN' | 'en' = 'zh-CN',
): OutgoingMessage {
  const w = words[language];
  const recipients: Recipient[] =
    to.phone || to.email
      ? [
          {
            name: to.phone ?? to.email ?? '',
            phone: to.phone ?? null,
            email: to.email ?? null,
            dingtalkUserId: null,
            wecomUserId: null,
            feishuOpenId: null,
          },
        ]
      : [];
  const body = w.body(channelName);
  return {
    kind: 'test',
    language,
    title: w.title,
    markdown: `### ${w.title}\n${body}`,
    text: body,
    to: recipients,
    sms: {
      priority: 'test',
      site: 'Vigil',
      device: '-',
      fault: w.title,
      deadline: '-',
      count: '0',
      ticket: '-',
    } satisfies SmsVariables,
    ticketIds: [],
  };
}
