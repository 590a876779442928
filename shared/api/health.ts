import { Type, type Static } from 'typebox';

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
});
export type Health = Static<typeof Health>;

export const healthExample: Health = {
  status: 'ok',
  version: '0.1.0',
  uptimeS: 3600,
  mqtt: { clients: 3 },
  metricsStore: { kind: 'embedded', ok: true },
  pipeline: { processed: 120340, rejected: 2 },
};
