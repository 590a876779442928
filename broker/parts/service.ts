/**
 * Spare parts and warranty on the ticket desk (issue 16 part 7; the contract's 备件服务
 * and 质保, ../shared/mission/service-commitments.md):
 *
 * - a ticket records a replacement; a part taken from a depot lowers its stock, and a
 *   depot with none left is refused with the depots that have it;
 * - "part needed" starts a spare-part clock on the ticket, from the customer's contract:
 *   a part some depot stocks must be replaced within spareParts.stockedHours (2 h), one
 *   no depot has must be shipped within unstockedHours (8 h). The clocks are rows of the
 *   ticket's SLA clocks (broker/tickets/), so they warn, breach and count down the same;
 * - a device that reports another serial number than the one last seen (the device at
 *   that address was replaced) while it has an open ticket gets a replacement on that
 *   ticket, detected, with both serials;
 * - a replacement recorded as a warranty repair ("a fault not caused by the customer")
 *   restarts the device's warranty from the replacement day, in the customer's zone, for
 *   the customer's contract.warrantyYears (3 without a customer): the site's device
 *   metadata gets replacedOn and warrantyEndsOn, which the warranty rule
 *   (shared/warranty.ts) and so the inspection report and the expiry list read.
 */
import type { Device } from '../../shared/api/devices.js';
import type {
  CustomerWarranty,
  Depot,
  DepotCreate,
  PartNeededRequest,
  Replacement,
  ReplacementPatch,
  ReplacementRequest,
  StockRow,
  WarrantyEntry,
} from '../../shared/api/parts.js';
import type { Contract } from '../../shared/api/customers.js';
import type { PartDeadline, Ticket } from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import { isFinishedStatus } from '../../shared/ticket-workflow.js';
import { message, type Message } from '../../shared/wording/messages.js';
import {
  addYears,
  DEFAULT_WARRANTY_YEARS,
  WARRANTY_SOON_DAYS,
  warrantyEnd,
  warrantyStart,
  warrantyState,
} from '../../shared/warranty.js';
import type { Site, SiteDevicePut } from '../../shared/api/sites.js';
import type { TicketService } from '../tickets/types.js';
import type { PartStore } from './store.js';

/** The contract's spare-part promises when a site has no customer (备件服务: 2 h / 8 h). */
export const DEFAULT_SPARE_PARTS = { stockedHours: 2, unstockedHours: 8 } as const;

/** What the parts ask of the rest of the desk, wired by broker/wiring/desk.ts. */
export interface PartsDeps {
  store: PartStore;
  tickets: TicketService;
  /** The contract of a site's customer; null for a site without one. */
  contractOf(siteId: string): Contract | null;
  /** The customer's zone (the replacement day is the customer's day). */
  timeZoneOf(siteId: string): string;
  site(siteId: string): Site;
  putDevice(siteId: string, deviceId: string, put: SiteDevicePut): Promise<unknown>;
  /** A customer's contract and sites; throws VIGIL_NOT_FOUND for an unknown one. */
  customer(id: string): { contract: Contract; sites: string[] };
  /** The devices the agents reported on a site (names and serials for the list). */
  devicesOf(siteId: string): Device[];
  now: () => Date;
}

const SYSTEM = 'system';
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of `at` in `timeZone` (en-CA formats dates as ISO days). */
export function dayIn(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

export class PartsService {
  constructor(private readonly deps: PartsDeps) {}

  // ---- depots and stock ---------------------------------------------------------

  depots(): Promise<Depot[]> {
    return this.deps.store.depots();
  }

  putDepot(input: DepotCreate): Promise<Depot> {
    return this.deps.store.putDepot(input);
  }

  async stock(depotId: string): Promise<StockRow[]> {
    await this.requireDepot(depotId);
    return this.deps.store.stock(depotId);
  }

  async setStock(depotId: string, partModel: string, count: number): Promise<StockRow> {
    await this.requireDepot(depotId);
    return this.deps.store.setStock(depotId, partModel, count, this.deps.now().toISOString());
  }

  private async requireDepot(depotId: string): Promise<Depot> {
    const depot = await this.deps.store.depot(depotId);
    if (depot === undefined) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No depot ${depotId}: see GET /api/depots, or create it with POST /api/depots {id, name, region?}.`,
      );
    }
    return depot;
  }

  // ---- replacements ---------------------------------------------------------------

  async replacements(ticketId: number): Promise<Replacement[]> {
    await this.requireTicket(ticketId);
    return this.deps.store.replacements(ticketId);
  }

  /**
   * Records a replacement on the ticket (finished tickets too: the paperwork may come
   * after). Stops the ticket's part clocks that run: the part is in.
   */
  async recordReplacement(
    ticketId: number,
    request: ReplacementRequest,
    actor: string,
  ): Promise<Replacement> {
    const ticket = await this.requireTicket(ticketId);
    if (
      request.depotId !== undefined &&
      (await this.deps.store.depot(request.depotId)) === undefined
    ) {
      throw new VigilError('VIGIL_BAD_REQUEST', `No depot ${request.depotId}.`, [
        `depotId: no depot "${request.depotId}"; send one of GET /api/depots, or leave it out when the part came from elsewhere`,
      ]);
    }
    const at = this.deps.now().toISOString();
    const recorded = await this.deps.store.takeAndRecord({
      ticketId,
      siteId: ticket.siteId,
      deviceId: ticket.deviceId,
      partModel: request.partModel,
      oldSerial: request.oldSerial ?? null,
      newSerial: request.newSerial ?? null,
      depotId: request.depotId ?? null,
      warrantyRepair: request.warrantyRepair,
      note: request.note ?? null,
      source: 'recorded',
      at,
      by: actor,
    });
    if (recorded === undefined) throw await this.noneLeft(request.depotId!, request.partModel);
    const said = message('part.replaced', {
      part: request.partModel,
      warranty: request.warrantyRepair,
      ...(request.oldSerial !== undefined ? { oldSerial: request.oldSerial } : {}),
      ...(request.newSerial !== undefined ? { newSerial: request.newSerial } : {}),
      ...(request.depotId !== undefined ? { depot: request.depotId } : {}),
      ...(request.note !== undefined ? { note: request.note } : {}),
    });
    await this.partIn(ticket, actor, said);
    return request.warrantyRepair ? this.restartWarranty(recorded, actor) : recorded;
  }

  /** Completes a replacement: its part model, a note, and most of all the warranty repair. */
  async patchReplacement(
    ticketId: number,
    id: number,
    patch: ReplacementPatch,
    actor: string,
  ): Promise<Replacement> {
    await this.requireTicket(ticketId);
    const before = await this.deps.store.replacement(ticketId, id);
    if (before === undefined) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `Ticket ${ticketId} has no replacement ${id}: see GET /api/tickets/${ticketId}/replacements.`,
      );
    }
    const after = (await this.deps.store.update(ticketId, id, patch))!;
    if (after.warrantyRepair && !before.warrantyRepair) {
      await this.deps.tickets.record(
        ticketId,
        'replaced',
        actor,
        message('part.warranty-repair', { part: after.partModel }),
      );
    }
    // A restart is made once: marking it false afterwards is a correction of the record,
    // and the warranty dates stay as the site's metadata says (PUT the device to change them).
    if (after.warrantyRepair && after.warrantyStartsOn === null) {
      return this.restartWarranty(after, actor);
    }
    return after;
  }

  private async noneLeft(depotId: string, partModel: string): Promise<VigilError> {
    const elsewhere = await this.deps.store.depotsWith(partModel);
    const where =
      elsewhere.length > 0
        ? `depots that have it: ${elsewhere.map((d) => `${d.depotId} (${d.count})`).join(', ')}; send one of those as depotId`
        : 'no depot has it: leave depotId out when the part came from elsewhere, or PUT /api/depots/:id/stock/:model with the count on the shelf';
    return new VigilError('VIGIL_CONFLICT', `Depot ${depotId} has no ${partModel} left; ${where}.`);
  }

  /** The part is in: the part clocks that run on the ticket stop now. */
  private async partIn(ticket: Ticket, actor: string, said: Message): Promise<void> {
    const running = (deadline: PartDeadline) =>
      ticket.sla.some((c) => c.deadline === deadline && c.doneAt === null);
    let recorded = false;
    for (const deadline of ['part-replaced', 'part-shipped'] as const) {
      if (!running(deadline)) continue;
      // The first clock carries the entry; a second one ends with a bare note of it.
      const entry = recorded ? message('part.shipped', {}) : said;
      await this.deps.tickets.clock(ticket.id, deadline, null, 'replaced', actor, entry);
      recorded = true;
    }
    if (!recorded) await this.deps.tickets.record(ticket.id, 'replaced', actor, said);
  }

  /**
   * The device's warranty starts again on the replacement day (the customer's day) for
   * the customer's warranty years; the site's device metadata keeps it (replacedOn and
   * the end, so an end entered before no longer wins over the restart).
   */
  private async restartWarranty(replacement: Replacement, actor: string): Promise<Replacement> {
    const { siteId, deviceId } = replacement;
    if (deviceId === null) return replacement;
    const years = this.deps.contractOf(siteId)?.warrantyYears ?? DEFAULT_WARRANTY_YEARS;
    const startsOn = dayIn(new Date(replacement.at), this.deps.timeZoneOf(siteId));
    const endsOn = addYears(startsOn, years);
    await this.deps.putDevice(siteId, deviceId, { replacedOn: startsOn, warrantyEndsOn: endsOn });
    await this.deps.store.setWarranty(replacement.id, startsOn, endsOn);
    await this.deps.tickets.record(
      replacement.ticketId,
      'warranty',
      actor,
      message('part.warranty-restarted', { startsOn, endsOn, years }),
    );
    return (await this.deps.store.replacement(replacement.ticketId, replacement.id))!;
  }

  // ---- spare-part clocks ------------------------------------------------------------

  /** Starts the clock of the contract's promise: stocked, replaced within; else shipped within. */
  async partNeeded(ticketId: number, request: PartNeededRequest, actor: string): Promise<Ticket> {
    const ticket = await this.requireTicket(ticketId);
    if (isFinishedStatus(ticket.status)) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `Ticket ${ticketId} is ${ticket.status}: a spare-part clock runs on an open ticket only. Reopen it or open a new one.`,
      );
    }
    const promise = this.deps.contractOf(ticket.siteId)?.spareParts ?? DEFAULT_SPARE_PARTS;
    const depots = (await this.deps.store.depotsWith(request.partModel)).map((d) => d.depotId);
    const stocked = depots.length > 0;
    const hours = stocked ? promise.stockedHours : promise.unstockedHours;
    const said = message('part.needed', {
      part: request.partModel,
      stocked,
      depots,
      hours,
      ...(request.note !== undefined ? { note: request.note } : {}),
    });
    const deadline: PartDeadline = stocked ? 'part-replaced' : 'part-shipped';
    const changed = await this.deps.tickets.clock(
      ticketId,
      deadline,
      hours * 60,
      'part-needed',
      actor,
      said,
    );
    if (changed === undefined) throw new VigilError('VIGIL_NOT_FOUND', `No ticket ${ticketId}.`);
    return changed;
  }

  /** The unstocked part left for the site: the part-shipped clock stops. */
  async partShipped(ticketId: number, note: string | undefined, actor: string): Promise<Ticket> {
    await this.requireTicket(ticketId);
    const said = message('part.shipped', note !== undefined ? { note } : {});
    const changed = await this.deps.tickets.clock(
      ticketId,
      'part-shipped',
      null,
      'part-shipped',
      actor,
      said,
    );
    if (changed === undefined) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `Ticket ${ticketId} has no part-shipped clock running: POST /api/tickets/${ticketId}/part-needed {partModel} first (it runs when no depot stocks the part).`,
      );
    }
    return changed;
  }

  // ---- the agent saw another serial number --------------------------------------------

  /**
   * Called with every device state (BrokerEvents 'device'). The first serial seen is
   * remembered; another one later means another unit at that address. With an open
   * ticket on the device, the replacement is recorded there (the most urgent ticket
   * when several are open), else on an open ticket that covers the device (its NVR's,
   * its site's); without one it is only remembered.
   */
  async seen(device: Device): Promise<Replacement | undefined> {
    const serial = device.identity?.serialNumber ?? device.serialNumber;
    if (!serial) return undefined;
    const { store } = this.deps;
    const before = store.serialOf(device.siteId, device.id);
    const at = this.deps.now();
    if (before === serial) return undefined;
    // The copy in memory changes before the write's first await: the next state of this
    // device, arriving meanwhile, compares with the new serial.
    const remembered = store.setSerial(device.siteId, device.id, serial, at.toISOString());
    if (before === undefined) return remembered.then(() => undefined);
    // The open tickets as they are with this state, asked before anything is awaited: the
    // same message's recovery may resolve the device's ticket right after this event.
    const asked = this.deps.tickets.list({ status: 'open', siteId: device.siteId });
    await remembered;
    const open = await asked;
    const ticket =
      open.find((t) => t.deviceId === device.id) ?? open.find((t) => t.covers.includes(device.id));
    if (ticket === undefined) return undefined;
    const recorded = await store.takeAndRecord({
      ticketId: ticket.id,
      siteId: device.siteId,
      deviceId: device.id,
      partModel: device.identity?.model || 'unknown',
      oldSerial: before,
      newSerial: serial,
      depotId: null,
      warrantyRepair: false,
      note: null,
      source: 'detected',
      at: at.toISOString(),
      by: SYSTEM,
    });
    await this.partIn(
      ticket,
      SYSTEM,
      message('part.detected', { oldSerial: before, newSerial: serial }),
    );
    return recorded;
  }

  // ---- warranty --------------------------------------------------------------------

  /** The customer's devices whose warranty ends within `days` (or has ended), soonest first. */
  warranty(customerId: string, days: number = WARRANTY_SOON_DAYS): CustomerWarranty {
    const customer = this.deps.customer(customerId);
    const at = this.deps.now();
    const years = customer.contract.warrantyYears;
    const devices: WarrantyEntry[] = [];
    for (const siteId of customer.sites) {
      const site = this.deps.site(siteId);
      const reported = new Map(this.deps.devicesOf(siteId).map((d) => [d.id, d]));
      const ids = new Set([...site.devices.map((d) => d.deviceId), ...reported.keys()]);
      for (const deviceId of [...ids].sort()) {
        const meta = site.devices.find((d) => d.deviceId === deviceId);
        const basis = {
          replacedOn: meta?.replacedOn ?? null,
          acceptedOn: meta?.acceptedOn ?? null,
          siteAcceptedOn: site.acceptedOn,
          warrantyEndsOn: meta?.warrantyEndsOn ?? null,
        };
        const endsOn = warrantyEnd(basis, years);
        const state = warrantyState(endsOn, at, days);
        if (endsOn === null || state !== 'ending-soon') continue;
        const device = reported.get(deviceId);
        devices.push({
          siteId,
          siteName: site.name,
          deviceId,
          deviceName: device?.name ?? null,
          serialNumber: device?.identity?.serialNumber ?? device?.serialNumber ?? null,
          startsOn: warrantyStart(basis),
          endsOn,
          daysLeft: Math.floor((Date.parse(`${endsOn}T00:00:00Z`) - at.getTime()) / DAY_MS) + 1,
        });
      }
    }
    devices.sort(
      (a, b) => a.endsOn.localeCompare(b.endsOn) || a.deviceId.localeCompare(b.deviceId),
    );
    return { customerId, warrantyYears: years, days, at: at.toISOString(), devices };
  }

  private async requireTicket(id: number): Promise<Ticket> {
    const ticket = await this.deps.tickets.get(id);
    if (ticket === undefined) throw new VigilError('VIGIL_NOT_FOUND', `No ticket ${id}.`);
    return ticket;
  }
}
