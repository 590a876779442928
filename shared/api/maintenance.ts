import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';

/**
 * A maintenance window of a whole site (deviceId null) or of one device: no tickets are
 * opened for what it covers, the SLA clocks of its open tickets pause, and its time is
 * left out of availability figures.
 */
export const MaintenanceWindow = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  siteId: Id,
  deviceId: Nullable(Id),
  startsAt: Timestamp,
  endsAt: Timestamp,
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Timestamp,
  /** Derived from the broker's clock: planned (not started), active, or over. */
  state: Type.Union([Type.Literal('planned'), Type.Literal('active'), Type.Literal('over')]),
});
export type MaintenanceWindow = Static<typeof MaintenanceWindow>;
export const MaintenanceList = Type.Array(MaintenanceWindow);

/**
 * POST /api/maintenance. Without `startsAt` the window starts now; give `endsAt` or
 * `durationMin`. Operator or admin.
 */
export const NewMaintenance = Type.Object(
  {
    siteId: Id,
    deviceId: Type.Optional(Nullable(Id)),
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    durationMin: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 525_600 })),
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type NewMaintenance = Static<typeof NewMaintenance>;

/** PATCH /api/maintenance/:id: move either end; `endsAt` = now ends the window early. */
export const MaintenancePatch = Type.Object(
  {
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  { additionalProperties: false },
);
export type MaintenancePatch = Static<typeof MaintenancePatch>;

/** GET /api/maintenance: windows that are not over (default) or all; per site. */
export const MaintenanceQuery = Type.Object(
  {
    siteId: Type.Optional(Id),
    include: Type.Optional(Type.Union([Type.Literal('current'), Type.Literal('all')])),
  },
  { additionalProperties: false },
);
export type MaintenanceQuery = Static<typeof MaintenanceQuery>;

export const MaintenanceParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/** The routes live in routes.ts (the console imports them without TypeBox). */
export { maintenanceApiRoutes, maintenancePath } from './routes.js';

export const maintenanceExample: MaintenanceWindow = {
  id: 3,
  siteId: 'demo-site',
  deviceId: 'nvr-01',
  startsAt: '2026-11-26T22:00:00.000Z',
  endsAt: '2026-11-27T00:00:00.000Z',
  reason: 'Disk replacement',
  createdBy: 'alice',
  createdAt: '2026-11-26T09:00:00.000Z',
  state: 'planned',
};
