import { Type, type Static } from 'typebox';

const Count = Type.Integer({ minimum: 0 });

/** What the notification outbox did for one channel type (broker/notify/outbox.ts). */
export const OutboxCounts = Type.Object({
  /** Waiting or in flight now. */
  pending: Count,
  delivered: Count,
  /** Given up: refused for good, or out of attempts. */
  failed: Count,
  retried: Count,
  /** Sent again because a crash left them in flight. */
  repeats: Count,
  /** Folded into a digest by the rate limit. */
  merged: Count,
  /** Not sent: their ticket was acknowledged or closed before their turn. */
  dropped: Count,
  /** Alerts the type's failing channels raised through the others. */
  alerts: Count,
});
export type OutboxCounts = Static<typeof OutboxCounts>;

/** A channel failing every attempt, and since when (kept across restarts). */
export const FailingChannel = Type.Object({
  channelId: Type.String(),
  type: Type.String(),
  since: Type.String({ format: 'date-time' }),
  /** Its alert went out through the other channels. */
  alerted: Type.Boolean(),
  /** The service's last code (DingTalk 310000, isv.DAY_LIMIT_CONTROL ...). */
  code: Type.String(),
});

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeS: Type.Number(),
  mqtt: Type.Object({ clients: Type.Integer({ minimum: 0 }) }),
  metricsStore: Type.Object({ kind: Type.String(), ok: Type.Boolean() }),
  pipeline: Type.Object({
    processed: Type.Integer({ minimum: 0 }),
    rejected: Type.Integer({ minimum: 0 }),
  }),
  /**
   * Notifications (issue 15): the outbox's counters per channel type (dingtalk, sms,
   * webhook ...), counted since the outbox was created and kept across restarts, and the
   * channels failing now. No message, recipient or secret.
   */
  notify: Type.Optional(
    Type.Object({
      outbox: Type.Record(Type.String(), OutboxCounts),
      failing: Type.Array(FailingChannel),
    }),
  ),
});
export type Health = Static<typeof Health>;

export const healthExample: Health = {
  status: 'ok',
  version: '0.1.0',
  uptimeS: 3600,
  mqtt: { clients: 3 },
  metricsStore: { kind: 'embedded', ok: true },
  pipeline: { processed: 120340, rejected: 2 },
  notify: {
    outbox: {
      dingtalk: {
        pending: 0,
        delivered: 412,
        failed: 1,
        retried: 3,
        repeats: 1,
        merged: 37,
        dropped: 5,
        alerts: 0,
      },
      sms: {
        pending: 1,
        delivered: 58,
        failed: 2,
        retried: 4,
        repeats: 0,
        merged: 6,
        dropped: 0,
        alerts: 1,
      },
    },
    failing: [
      {
        channelId: 'sms-3f9a1c2e',
        type: 'sms',
        since: '2026-12-06T18:02:11.000Z',
        alerted: true,
        code: 'isv.DAY_LIMIT_CONTROL',
      },
    ],
  },
};
