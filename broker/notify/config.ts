/**
 * The `notify:` section of the broker config: where ticket and SLA events go
 * (./webhook.ts), checked with the rest of the file by broker/config.ts.
 */
import { Type, type Static } from 'typebox';

export const Webhook = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://' }),
    secret: Type.String({ minLength: 16 }),
    events: Type.Optional(Type.Array(Type.Union([Type.Literal('ticket'), Type.Literal('sla')]))),
  },
  { additionalProperties: false },
);
export type Webhook = Static<typeof Webhook>;

export const NotifyConfigFile = Type.Object(
  {
    webhooks: Type.Optional(Type.Array(Webhook)),
    /** Attempts per delivery (first try included). */
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    /** First retry after this many ms; doubles each time. */
    retryMs: Type.Optional(Type.Integer({ minimum: 10 })),
  },
  { additionalProperties: false },
);

export interface NotifyConfig {
  webhooks: Webhook[];
  attempts: number;
  retryMs: number;
}
