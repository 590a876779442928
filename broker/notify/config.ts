/**
 * The `notify:` section of the broker config: the escalation (policies, the outbox, the
 * acknowledge link) and the config file's signed webhooks (./webhook.ts), checked with the
 * rest of the file by broker/config.ts.
 */
import { Type, type Static } from 'typebox';
import { PriorityPolicy, type NotifyPolicies } from '../../shared/api/notify-policy.js';
import { defaultOutboxSettings, type OutboxSettings } from './outbox.js';
import { defaultPolicies, mergePolicies, policyProblems } from './policies.js';
import { DEFAULT_ACK_TTL_MS } from './ack-link.js';

export const Webhook = Type.Object(
  {
    url: Type.String({ format: 'uri', pattern: '^https?://' }),
    secret: Type.String({ minLength: 16 }),
    events: Type.Optional(Type.Array(Type.Union([Type.Literal('ticket'), Type.Literal('sla')]))),
  },
  { additionalProperties: false },
);
export type Webhook = Static<typeof Webhook>;

/** Escalation policies over the defaults, per priority (shared/api/notify-policy.ts). */
const PoliciesOverride = Type.Object(
  {
    emergency: Type.Optional(Type.Partial(PriorityPolicy)),
    serious: Type.Optional(Type.Partial(PriorityPolicy)),
    general: Type.Optional(Type.Partial(PriorityPolicy)),
  },
  { additionalProperties: false },
);

export const NotifyConfigFile = Type.Object(
  {
    /**
     * The broker's address as people reach it (https://vigil.example.com): the ticket and
     * acknowledge links in notifications. Unset: messages carry no links and say so.
     */
    publicUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://' })),
    /** How long an acknowledge link stays valid; 24 h. */
    ackLinkHours: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 720 })),
    policies: Type.Optional(PoliciesOverride),
    /** The durable outbox (broker/notify/outbox.ts). */
    outbox: Type.Optional(
      Type.Object(
        {
          retryFirstMs: Type.Optional(Type.Integer({ minimum: 10 })),
          retryMaxMs: Type.Optional(Type.Integer({ minimum: 10 })),
          attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          /** A channel failing every attempt this long alerts through the others; 10. */
          alertAfterMin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          /** How long a graceful stop waits for requests under way to be answered; 15 s. */
          stopWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 120_000 })),
          /** Texts a minute to one number of an SMS channel before the rest merge into one; 5. */
          smsPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          /**
           * Longest a service's own wait (SMS flow control, a robot's block) may hold an
           * emergency or an SLA alert before it goes to other channels instead; 120 s.
           */
          urgentMaxWaitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Signed JSON hooks of every ticket change and SLA alert, through the outbox. */
    webhooks: Type.Optional(Type.Array(Webhook)),
    /** Attempts per delivery of those hooks (first try included). */
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    /** Their first retry after this many ms; doubles each time (up to outbox.retryMaxMs). */
    retryMs: Type.Optional(Type.Integer({ minimum: 10 })),
  },
  { additionalProperties: false },
);

/** The config file's webhooks (./webhook.ts) and their own retries. */
export interface WebhooksConfig {
  hooks: Webhook[];
  attempts: number;
  retryMs: number;
}

export const defaultWebhooksConfig: WebhooksConfig = { hooks: [], attempts: 5, retryMs: 1000 };

/** The escalation engine's settings (broker/notify/escalation.ts), resolved. */
export interface EscalationConfig {
  publicUrl: string | null;
  ackTtlMs: number;
  /** The configured policies (defaults with notify.policies over them). */
  policies: NotifyPolicies;
  outbox: OutboxSettings;
  /** `notify.webhooks`, `notify.attempts`, `notify.retryMs`. */
  webhooks: WebhooksConfig;
}

export const defaultEscalationConfig: EscalationConfig = {
  publicUrl: null,
  ackTtlMs: DEFAULT_ACK_TTL_MS,
  policies: defaultPolicies,
  outbox: defaultOutboxSettings,
  webhooks: defaultWebhooksConfig,
};

/**
 * The `notify:` section's escalation settings with their defaults; `errors` gets every
 * policy step that cannot run, with its path.
 */
export function resolveEscalationConfig(
  file: Static<typeof NotifyConfigFile> | undefined,
  errors: string[],
): EscalationConfig {
  const policies = mergePolicies(defaultPolicies, file?.policies);
  errors.push(...policyProblems(policies).map((p) => `notify/policies/${p}`));
  const o = file?.outbox;
  return {
    publicUrl: file?.publicUrl?.replace(/\/+$/, '') ?? null,
    ackTtlMs: file?.ackLinkHours !== undefined ? file.ackLinkHours * 3600_000 : DEFAULT_ACK_TTL_MS,
    policies,
    outbox: {
      ...defaultOutboxSettings,
      ...(o?.retryFirstMs !== undefined ? { retryFirstMs: o.retryFirstMs } : {}),
      ...(o?.retryMaxMs !== undefined ? { retryMaxMs: o.retryMaxMs } : {}),
      ...(o?.attempts !== undefined ? { attempts: o.attempts } : {}),
      ...(o?.alertAfterMin !== undefined ? { alertAfterMs: o.alertAfterMin * 60_000 } : {}),
      ...(o?.smsPerMinute !== undefined ? { smsPerMinute: o.smsPerMinute } : {}),
      ...(o?.stopWaitMs !== undefined ? { stopWaitMs: o.stopWaitMs } : {}),
      ...(o?.urgentMaxWaitS !== undefined ? { urgentMaxWaitMs: o.urgentMaxWaitS * 1000 } : {}),
    },
    webhooks: {
      hooks: file?.webhooks ?? [],
      attempts: file?.attempts ?? defaultWebhooksConfig.attempts,
      retryMs: file?.retryMs ?? defaultWebhooksConfig.retryMs,
    },
  };
}
