/**
 * Spare parts and warranty (issue 16 part 7; the contract's 备件服务 and 质保 in
 * ../shared/mission/service-commitments.md): spare-part depots and their stock per part
 * model, the replacements a ticket records (part, old and new serial, whether it was a
 * warranty repair), the spare-part clocks on a ticket (a stocked part replaced within
 * contract.spareParts.stockedHours, an unstocked one shipped within unstockedHours), and
 * the devices of a customer that leave warranty soon. docs/PARTS.md tells the story.
 */
import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';
import { Day } from './sites.js';

/** A part model as the vendor names it: "DS-2CD2143G2-I", "IPC-HFW2431S-S-S2", "4TB HDD". */
export const PartModel = Type.String({ minLength: 1, maxLength: 100 });

export const Depot = Type.Object({
  id: Id,
  name: Type.String(),
  /** Where it is (a city, a region): helps choose the nearest. null: not said. */
  region: Nullable(Type.String()),
});
export type Depot = Static<typeof Depot>;
export const DepotList = Type.Array(Depot);

/** POST /api/depots (operator or admin): creates a depot, or renames one with the same id. */
export const DepotCreate = Type.Object(
  {
    id: Id,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    region: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  },
  { additionalProperties: false },
);
export type DepotCreate = Static<typeof DepotCreate>;

export const StockRow = Type.Object({
  depotId: Id,
  partModel: PartModel,
  count: Type.Integer({ minimum: 0 }),
  updatedAt: Timestamp,
});
export type StockRow = Static<typeof StockRow>;
export const StockList = Type.Array(StockRow);

/** PUT /api/depots/:id/stock/:model (operator or admin): the count counted on the shelf. */
export const StockPut = Type.Object(
  { count: Type.Integer({ minimum: 0, maximum: 1_000_000 }) },
  { additionalProperties: false },
);
export type StockPut = Static<typeof StockPut>;

export const DepotParams = Type.Object({ id: Id }, { additionalProperties: false });
export const StockParams = Type.Object(
  { id: Id, model: PartModel },
  { additionalProperties: false },
);

/**
 * How a replacement was recorded: `recorded` by an engineer (POST .../replacements), or
 * `detected` when the agent saw the device's serial number change at its address while
 * the device had an open ticket (agent/checks/identity.ts, reason device-replaced).
 */
export const ReplacementSource = Type.Union([Type.Literal('recorded'), Type.Literal('detected')]);

export const Replacement = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  ticketId: Type.Integer({ minimum: 1 }),
  siteId: Id,
  deviceId: Nullable(Id),
  partModel: PartModel,
  oldSerial: Nullable(Type.String()),
  newSerial: Nullable(Type.String()),
  /** The depot the part came from (its stock was taken down by one); null: none said. */
  depotId: Nullable(Id),
  /**
   * A fault not caused by the customer (the contract's words): the device's warranty
   * restarts from the replacement day for the customer's contract.warrantyYears.
   */
  warrantyRepair: Type.Boolean(),
  note: Nullable(Type.String()),
  source: ReplacementSource,
  at: Timestamp,
  /** The user who recorded it; "system" for a detected one. */
  by: Type.String(),
  /** The device's new warranty, once restarted by a warranty repair; null otherwise. */
  warrantyStartsOn: Nullable(Day),
  warrantyEndsOn: Nullable(Day),
});
export type Replacement = Static<typeof Replacement>;
export const ReplacementList = Type.Array(Replacement);

/**
 * POST /api/tickets/:id/replacements (operator or admin): a part was replaced for this
 * ticket. With `depotId` the depot's stock of `partModel` goes down by one (409 when it
 * has none left, naming the depots that have it). A warranty repair restarts the
 * device's warranty. When the ticket's part clock (part-replaced) runs, this stops it.
 */
export const ReplacementRequest = Type.Object(
  {
    partModel: PartModel,
    oldSerial: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    newSerial: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    depotId: Type.Optional(Id),
    warrantyRepair: Type.Boolean(),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ReplacementRequest = Static<typeof ReplacementRequest>;

export const replacementRequestExample: ReplacementRequest = {
  partModel: 'DS-2CD2143G2-I',
  oldSerial: 'VS4M2026110001',
  newSerial: 'VS4M2026119999',
  depotId: 'sh-pudong',
  warrantyRepair: true,
  note: 'Water in the housing after the storm; the seal had failed (not the customer).',
};

/**
 * PATCH /api/tickets/:id/replacements/:replacement (operator or admin): completes a
 * replacement, most often one the agent detected: the part model, and whether it was a
 * warranty repair (true restarts the warranty; the restart is not undone by false).
 */
export const ReplacementPatch = Type.Object(
  {
    partModel: Type.Optional(PartModel),
    warrantyRepair: Type.Optional(Type.Boolean()),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ReplacementPatch = Static<typeof ReplacementPatch>;

export const ReplacementParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }), replacement: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

/**
 * POST /api/tickets/:id/part-needed (operator or admin): the engineer needs a spare
 * part. When some depot has `partModel` in stock, the clock `part-replaced` starts
 * (contract.spareParts.stockedHours, 2 h); otherwise `part-shipped` (unstockedHours,
 * 8 h). Answers the ticket with its clocks.
 */
export const PartNeededRequest = Type.Object(
  { partModel: PartModel, note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
  { additionalProperties: false },
);
export type PartNeededRequest = Static<typeof PartNeededRequest>;

/** POST /api/tickets/:id/part-shipped (operator or admin): the unstocked part left; stops part-shipped. */
export const PartShippedRequest = Type.Object(
  { note: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) },
  { additionalProperties: false },
);
export type PartShippedRequest = Static<typeof PartShippedRequest>;

/** GET /api/customers/:id/warranty?days=90 */
export const WarrantyQuery = Type.Object(
  { days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })) },
  { additionalProperties: false },
);

export const WarrantyEntry = Type.Object({
  siteId: Id,
  siteName: Type.String(),
  deviceId: Id,
  /** The device's name as the agent reports it; null for a device never reported. */
  deviceName: Nullable(Type.String()),
  serialNumber: Nullable(Type.String()),
  /** Where the warranty started: the replacement, else the device's or site's acceptance. */
  startsOn: Nullable(Day),
  /** The last day of the warranty (shared/warranty.ts). */
  endsOn: Day,
  /** Whole days from now until the warranty is over (0 on its last day). */
  daysLeft: Type.Integer({ minimum: 0 }),
});
export type WarrantyEntry = Static<typeof WarrantyEntry>;

export const CustomerWarranty = Type.Object({
  customerId: Id,
  /** The contract's warranty years the ends were computed with. */
  warrantyYears: Type.Integer({ minimum: 0 }),
  days: Type.Integer({ minimum: 0 }),
  at: Timestamp,
  /**
   * Devices still in warranty whose warranty ends within `days`, soonest first; devices
   * without any acceptance date, and those already out of warranty, are not listed.
   */
  devices: Type.Array(WarrantyEntry),
});
export type CustomerWarranty = Static<typeof CustomerWarranty>;

export const depotExample: Depot = { id: 'sh-pudong', name: '浦东备件库', region: '上海' };

export const replacementExample: Replacement = {
  id: 1,
  ticketId: 17,
  siteId: 'demo-site',
  deviceId: 'cam-01',
  partModel: 'DS-2CD2143G2-I',
  oldSerial: 'VS4M2026110001',
  newSerial: 'VS4M2026119999',
  depotId: 'sh-pudong',
  warrantyRepair: true,
  note: null,
  source: 'recorded',
  at: '2026-11-26T09:40:00.000Z',
  by: 'alice',
  warrantyStartsOn: '2026-11-26',
  warrantyEndsOn: '2029-11-26',
};

export { partApiRoutes, partPath } from './routes.js';
