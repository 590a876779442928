/**
 * The broker config sections of the ticket desk (./desk.ts), checked by broker/config.ts with the
 * rest of the file:
 *
 *   detect:                 # broker/detect/config.ts: every key optional
 *     holdS: 2             # the hold of a camera while a site-wide event may be forming
 *     holdFromShare: 0.8   # ... which starts at 80 % of the site-outage threshold
 *     heartbeatTimeoutS: 90
 *     massShare: 0.3
 *     flapFailures: 3
 *   tickets:
 *     warnShare: 0.8        # SLA warning at 80 % of a deadline's time
 *     relapseWindowMin: 60  # a fault back within an hour reopens its ticket
 *     priorities:           # condition -> emergency | serious | general | none
 *       degraded:clock-drift: none
 *       device-down:camera: serious
 *     useCriticality: true
 *
 * `notify:` (webhooks, escalation, the outbox) is broker/notify/config.ts.
 */
import { Type, type Static } from 'typebox';
import { defaultDetectConfig, type DetectConfig } from '../detect/config.js';
import { DEFAULT_WARN_SHARE } from '../tickets/deadlines.js';
import { defaultPriorities, defaultRules, type TicketRules } from '../tickets/priorities.js';

const Positive = Type.Number({ exclusiveMinimum: 0 });

export const DetectConfigFile = Type.Object(
  {
    holdS: Type.Optional(Type.Number({ minimum: 0 })),
    holdFromShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    heartbeatTimeoutS: Type.Optional(Positive),
    massShare: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    massWindowS: Type.Optional(Positive),
    massMinDevices: Type.Optional(Type.Integer({ minimum: 1 })),
    flapFailures: Type.Optional(Type.Integer({ minimum: 2 })),
    flapWindowMin: Type.Optional(Positive),
    gatewayMemPct: Type.Optional(Positive),
    gatewayDiskPct: Type.Optional(Positive),
    gatewayCpuPct: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    gatewayCpuReports: Type.Optional(Type.Integer({ minimum: 1 })),
    gatewayTempC: Type.Optional(Type.Number({ minimum: 0, maximum: 200 })),
    gatewayTempHysteresisC: Type.Optional(Type.Number({ minimum: 0, maximum: 50 })),
    tickMs: Type.Optional(Type.Integer({ minimum: 50 })),
  },
  { additionalProperties: false },
);

export const TicketsConfigFile = Type.Object(
  {
    warnShare: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
    relapseWindowMin: Type.Optional(Type.Number({ minimum: 0 })),
    priorities: Type.Optional(
      Type.Record(
        Type.String({ pattern: '^[a-z0-9:*-]+$' }),
        Type.Union([
          Type.Literal('emergency'),
          Type.Literal('serious'),
          Type.Literal('general'),
          Type.Literal('none'),
        ]),
      ),
    ),
    useCriticality: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface DeskConfig {
  detect: DetectConfig;
  rules: TicketRules;
  warnShare: number;
  relapseWindowMin: number;
}

export const defaultDeskConfig: DeskConfig = {
  detect: defaultDetectConfig,
  rules: defaultRules,
  warnShare: DEFAULT_WARN_SHARE,
  relapseWindowMin: 60,
};

export function resolveDeskConfig(file: {
  detect?: Static<typeof DetectConfigFile>;
  tickets?: Static<typeof TicketsConfigFile>;
}): DeskConfig {
  const priorities = { ...defaultPriorities };
  for (const [condition, priority] of Object.entries(file.tickets?.priorities ?? {})) {
    priorities[condition] = priority === 'none' ? null : priority;
  }
  return {
    detect: { ...defaultDetectConfig, ...file.detect },
    rules: { priorities, useCriticality: file.tickets?.useCriticality ?? true },
    warnShare: file.tickets?.warnShare ?? defaultDeskConfig.warnShare,
    relapseWindowMin: file.tickets?.relapseWindowMin ?? defaultDeskConfig.relapseWindowMin,
  };
}
