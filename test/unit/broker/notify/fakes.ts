/**
 * Small in-test stand-ins for the two interfaces of issue 15 the escalation engine uses
 * (broker/notify/deps.ts): a channel registry whose drivers answer what the test says and
 * record what they were given, and an on-call directory of fixed people. The integration
 * test uses the real ChannelStore and OnCallStore instead.
 */
import type {
  ChannelDriver,
  ChannelInfo,
  ChannelRegistry,
  DeliveryContext,
  DeliveryResult,
  OnCallDirectory,
  OnCallNow,
  OutgoingMessage,
  Person,
  Team,
} from '../../../../broker/notify/deps.js';

export interface FakeChannel extends ChannelInfo {
  perMinute: number | null;
  /** Answers in order; the last one repeats. */
  answers: DeliveryResult[];
  sent: OutgoingMessage[];
  /** The outbox's delivery context of each send, in order. */
  contexts: (DeliveryContext | undefined)[];
  /** Sends in order, a retry holding the later rows (as the webhook does). */
  ordered?: boolean;
}

export function fakeChannel(id: string, extra: Partial<FakeChannel> = {}): FakeChannel {
  return {
    id,
    name: `robot ${id}`,
    type: 'dingtalk',
    default: false,
    enabled: true,
    perMinute: 20,
    answers: [{ delivered: true }],
    sent: [],
    contexts: [],
    ...extra,
  };
}

export function fakeRegistry(channels: FakeChannel[]): ChannelRegistry {
  const info = ({ id, name, type, enabled, ...rest }: FakeChannel): ChannelInfo => ({
    id,
    name,
    type,
    enabled,
    default: rest.default,
  });
  const driver = (c: FakeChannel): ChannelDriver => ({
    type: c.type,
    perMinute: c.perMinute,
    ...(c.ordered ? { ordered: true } : {}),
    send: (message, _signal, context) => {
      c.sent.push(message);
      c.contexts.push(context);
      const answer = c.answers.length > 1 ? c.answers.shift()! : c.answers[0]!;
      return Promise.resolve(answer);
    },
  });
  return {
    list: async () => channels.map(info),
    get: async (id) => {
      const c = channels.find((x) => x.id === id);
      return c ? info(c) : undefined;
    },
    driver: async (id) => {
      const c = channels.find((x) => x.id === id && x.enabled);
      return c ? driver(c) : undefined;
    },
    defaults: async () => channels.filter((c) => c.default && c.enabled).map(info),
  };
}

export function person(id: string, name: string, extra: Partial<Person> = {}): Person {
  return {
    id,
    name,
    phone: '13800138000',
    email: null,
    dingtalkUserId: null,
    wecomUserId: null,
    feishuOpenId: null,
    language: 'zh-CN',
    userName: null,
    ...extra,
  };
}

export function fakeDirectory(
  team: Team | null,
  people: { engineer?: Person; lead?: Person; supervisor?: Person; manager?: Person } = {},
): OnCallDirectory {
  const all = Object.values(people);
  return {
    onCall: (siteId): OnCallNow => ({
      siteId,
      team,
      engineer: people.engineer ?? null,
      until: null,
      next: null,
      lead: people.lead ?? null,
      supervisor: people.supervisor ?? null,
      manager: people.manager ?? null,
    }),
    person: (id) => all.find((p) => p.id === id),
    personByUserName: (userName) => all.find((p) => p.userName === userName),
  };
}
