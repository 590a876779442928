/**
 * The ticket desk: detections open, reopen and resolve tickets with the contract's
 * deadlines; people take the work order's steps; the SLA clocks warn, breach and pause.
 * Every change is emitted on BrokerEvents 'ticket' after it is committed, so a listener
 * never sees a ticket the database does not hold; every clock alert on 'sla'.
 *
 * The desk keeps nothing in memory between calls: each beat reads the running clocks
 * from the database (store.ts), so a restarted broker, or the node that takes over a
 * pair, resumes them where they stood, and a warning or breach is marked once in the
 * database by whichever caller gets there first. Detections and beats run one after
 * another in the order they were handed over, each at the instant it was handed over:
 * a device's "up" can never overtake its "down" while the database answers.
 */
import type { SlaAlert } from '../../shared/api/live.js';
import type { Criticality } from '../../shared/api/sites.js';
import {
  MANUAL_FAULT,
  type SlaDeadline,
  type Ticket,
  type TicketAction,
  type TicketStatus,
} from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import { transitions } from '../../shared/ticket-workflow.js';
import type { SqlDatabase } from '../sql/types.js';
import type { BrokerEvents } from '../events.js';
import type { FaultRaised } from '../pipeline/types.js';
import { bare, message, type Message } from '../../shared/wording/messages.js';
import { say } from '../../shared/wording/render.js';
import { DEFAULT_WARN_SHARE, deadlinesFor, slaClockAt } from './deadlines.js';
import { incidentReport } from './report.js';
import { decide, defaultRules, manualPriority, type TicketRules } from './priorities.js';
import { TicketStore, type NewEntry, type StepFields } from './store.js';
import type { ManualReport, SlaTable, TicketService } from './types.js';

/** A value now, or once a store (maybe on PostgreSQL) answered. */
type Answer<T> = T | Promise<T>;

export interface TicketServiceOptions {
  /** The stores' engine (broker/sql/): SQLite's vigil.db or PostgreSQL. */
  db: SqlDatabase;
  events: BrokerEvents;
  sla: SlaTable;
  /** Which condition opens which priority; the contract's mapping by default. */
  rules?: TicketRules;
  /** The broker's clock; tests pass a controllable one. */
  now?: () => Date;
  /** Share of a deadline's time after which its clock warns; 0.8 by default. */
  warnShare?: number;
  /** A fault back within this many minutes of its resolution reopens the ticket; 60. */
  relapseWindowMin?: number;
  /** The device's criticality from the site metadata; normal when absent. */
  criticalityOf?: (siteId: string, deviceId: string) => Answer<Criticality>;
  /** True while a maintenance window covers the device (or the site when deviceId is null). */
  underMaintenance?: (siteId: string, deviceId: string | null, at: Date) => Answer<boolean>;
  /** The deadlines of a site's tickets: its customer's contract; `sla` when absent. */
  slaFor?: (siteId: string) => Answer<SlaTable | undefined>;
  /**
   * Whether a site exists (described, or watched by an agent), and whether a device is
   * one of its devices: what a manual ticket may name. Without them every name is taken.
   */
  siteExists?: (siteId: string) => Answer<boolean>;
  deviceOnSite?: (siteId: string, deviceId: string) => Answer<boolean>;
}

const SYSTEM = 'system';

/** What to do instead, for the 409 answer. */
function conflictHint(status: TicketStatus, action: TicketAction['action']): string {
  if (status === 'closed') return 'It is closed: only notes can be added.';
  if (status === 'resolved')
    return 'It is resolved: close it with the customer confirmation, or add a note.';
  if (action === 'close') return 'Resolve it first (with cause and fix), then close it.';
  if (action === 'acknowledge') return 'It was already acknowledged.';
  if (action === 'dispatch') return 'An engineer was already dispatched or is on site.';
  return 'Reload the ticket and take the next step.';
}

export function createTicketService(opts: TicketServiceOptions): TicketService {
  const now = opts.now ?? (() => new Date());
  const warnShare = opts.warnShare ?? DEFAULT_WARN_SHARE;
  const store = new TicketStore(opts.db, { now, warnShare });
  const rules = opts.rules ?? defaultRules;
  const relapseMs = (opts.relapseWindowMin ?? 60) * 60_000;
  const underMaintenance = opts.underMaintenance ?? (() => false);
  const slaOf = async (siteId: string): Promise<SlaTable> =>
    (await opts.slaFor?.(siteId)) ?? opts.sla;

  // Detections and beats, one after another in the order they came (see the header).
  let chain: Promise<unknown> = Promise.resolve();
  function inTurn<T>(work: () => Promise<T>): Promise<T> {
    const result = chain.then(work);
    chain = result.catch(() => undefined);
    return result;
  }
  // A beat waiting for its turn takes the later beats' instant instead of queueing more:
  // a slow database gets one beat at a time, never a backlog of them.
  let waitingBeat: Promise<SlaAlert[]> | null = null;
  let beatAt = now();

  function emit(ticket: Ticket | undefined): Ticket[] {
    if (ticket === undefined) return [];
    opts.events.emit('ticket', ticket);
    return [ticket];
  }

  function entry(kind: string, actor: string, said: Message, at = now()): NewEntry {
    return { at: at.toISOString(), kind, actor, message: said };
  }

  async function open(detection: FaultRaised, openedAt: Date): Promise<Ticket[]> {
    const { siteId, deviceId, text, title, covers } = detection;
    const criticality =
      deviceId !== null && opts.criticalityOf
        ? await opts.criticalityOf(siteId, deviceId)
        : 'normal';
    const decision = decide(detection, rules, criticality);
    if (decision.action !== 'open') return [];
    // The contract's clock runs on the broker, not on the agent: agent clocks drift
    // (that is one of the faults Vigil watches), and the NOC can only respond once the
    // broker knows. detection.at stays in the device's own history.
    if (await underMaintenance(siteId, deviceId, openedAt)) return [];

    const current = await store.findOpen(siteId, deviceId, decision.fault);
    if (current !== undefined) {
      const same =
        JSON.stringify([...current.covers].sort()) === JSON.stringify([...covers].sort());
      return same ? [] : emit(await coverTicket(current, covers, openedAt));
    }
    // A relapse of the same fault soon after its resolution is the same problem: the
    // ticket (and its service log) reopens instead of a new one starting from zero.
    const latest = await store.findLatest(siteId, deviceId, decision.fault);
    if (
      latest?.resolvedAt != null &&
      openedAt.getTime() - Date.parse(latest.resolvedAt) <= relapseMs
    ) {
      const minutes = Math.round((openedAt.getTime() - Date.parse(latest.resolvedAt)) / 60_000);
      const reopened = await store.reopen(
        latest.id,
        entry('reopened', SYSTEM, message('ticket.reopened', { minutes, detail: text }), openedAt),
      );
      if (reopened !== undefined) return emit(reopened);
    }
    // No "is one open?" check first: the unique index answers that, also for a writer
    // that raced us (the other node of a pair). An insert left out means the ticket is
    // already open: that one is the ticket, and it was announced by whoever opened it.
    const sla = await slaOf(siteId);
    const terms = sla[decision.priority];
    const ticket = await store.insertOpen(
      {
        siteId,
        deviceId,
        fault: decision.fault,
        priority: decision.priority,
        title,
        openedAt,
        covers,
        ...deadlinesFor(decision.priority, openedAt, sla),
      },
      entry('detected', SYSTEM, text, openedAt),
      { respond: terms.respondMin, 'on-site': terms.onSiteMin, resolve: terms.resolveMin },
    );
    return emit(ticket);
  }

  /**
   * A fault a person reported: its own ticket, whatever else is open on the device (no
   * one-open rule, no relapse), with the clocks of its priority from now. It never
   * resolves by itself: the detector's lookups do not find it (store.ts).
   */
  async function openManual(report: ManualReport): Promise<Ticket> {
    const { siteId, deviceId } = report;
    if (opts.siteExists && !(await opts.siteExists(siteId))) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No site "${siteId}": check the site id (GET /api/sites lists the described sites, GET /api/devices the devices agents watch).`,
      );
    }
    if (deviceId !== null && opts.deviceOnSite && !(await opts.deviceOnSite(siteId, deviceId))) {
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        `Site "${siteId}" has no device "${deviceId}": send one of its device ids, or leave deviceId out for a fault of the whole site.`,
        [`deviceId: not a device of site ${siteId}`],
      );
    }
    const title = report.title.trim();
    if (title === '') {
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        'The title is blank: say in a line what is wrong ("the picture at the gate is blurred").',
        ['title: must hold more than spaces'],
      );
    }
    const criticality =
      deviceId !== null && opts.criticalityOf
        ? await opts.criticalityOf(siteId, deviceId)
        : 'normal';
    const priority = manualPriority(report.priority, rules, criticality);
    const openedAt = now();
    const sla = await slaOf(siteId);
    const terms = sla[priority];
    const description = report.description.trim();
    const ticket = await store.insertOpen(
      {
        siteId,
        deviceId,
        fault: MANUAL_FAULT,
        priority,
        title: message('title.manual', { text: title }),
        openedAt,
        ...deadlinesFor(priority, openedAt, sla),
        source: 'manual',
        reportedBy: report.reportedBy,
        reportedVia: report.via,
        description,
      },
      entry(
        'reported',
        report.reportedBy,
        message('reported.manual', { by: report.reportedBy, via: report.via, description }),
        openedAt,
      ),
      { respond: terms.respondMin, 'on-site': terms.onSiteMin, resolve: terms.resolveMin },
    );
    // The unique index leaves manual tickets alone: a refused insert is a bug.
    if (ticket === undefined) throw new Error(`manual ticket on ${siteId} was not stored`);
    emit(ticket);
    return ticket;
  }

  function coverTicket(ticket: Ticket, covers: string[], at = now()): Promise<Ticket | undefined> {
    const added = covers.filter((id) => !ticket.covers.includes(id));
    const gone = ticket.covers.filter((id) => !covers.includes(id));
    return store.annotate(
      ticket.id,
      entry('covered', SYSTEM, message('ticket.covered', { added, gone }), at),
      covers,
    );
  }

  async function resolve(
    siteId: string,
    deviceId: string | null,
    fault: string,
    text: Message,
    at: Date,
  ): Promise<Ticket[]> {
    const current = await store.findOpen(siteId, deviceId, fault);
    if (current === undefined) return [];
    return emit(
      await store.changeStatus(current.id, 'resolved', entry('resolved', SYSTEM, text, at)),
    );
  }

  function stepFor(
    ticket: Ticket,
    action: TicketAction,
    actor: string,
    at: string,
    sla: SlaTable,
  ): { fields: StepFields; clocks: SlaDeadline[]; said: Message } {
    const responded: StepFields =
      ticket.respondedAt === null ? { responded_at: at, responded_by: actor } : {};
    const onSiteByDispatch = sla[ticket.priority].onSiteMetBy === 'dispatch';
    const note = 'note' in action && action.note ? { note: action.note } : {};
    switch (action.action) {
      case 'acknowledge':
        return {
          fields: responded,
          clocks: ['respond'],
          said: message('step.acknowledged', note),
        };
      case 'dispatch':
        return {
          fields: {
            ...responded,
            dispatched_at: at,
            dispatched_by: actor,
            engineer: action.engineer,
          },
          clocks: onSiteByDispatch ? ['respond', 'on-site'] : ['respond'],
          said: message('step.dispatched', { engineer: action.engineer, ...note }),
        };
      case 'on-site':
        return {
          fields: { ...responded, on_site_at: at, on_site_reported_by: actor },
          clocks: ['respond', 'on-site'],
          said: message('step.on-site', note),
        };
      case 'note':
        return { fields: {}, clocks: [], said: message('step.note', { text: action.text }) };
      case 'resolve':
        return {
          fields: { resolved_at: at, resolved_by: actor, cause: action.cause, fix: action.fix },
          clocks: ['respond', 'on-site', 'resolve'],
          said: message('step.resolved', { cause: action.cause, fix: action.fix }),
        };
      case 'close':
        return {
          fields: { closed_at: at, closed_by: actor, confirmation: action.confirmation },
          clocks: [],
          said: message('step.closed', { confirmation: action.confirmation }),
        };
    }
  }

  /** One beat of the SLA clocks at `at`, from what the database holds now. */
  async function beat(at: Date): Promise<SlaAlert[]> {
    const atIso = at.toISOString();
    const alerts: SlaAlert[] = [];
    const changed = new Set<number>();
    const pauseChecked = new Map<number, boolean>();
    // Tickets whose clocks moved in this beat (resumed): read again before judging them.
    const moved = new Set<number>();
    for (const row of await store.runningClocks()) {
      const id = Number(row.ticket_id);
      // Maintenance pauses every clock of a ticket it covers, and resumes them after.
      let paused = pauseChecked.get(id);
      if (paused === undefined) {
        paused = await underMaintenance(row.site_id, row.device_id, at);
        pauseChecked.set(id, paused);
        if (
          paused &&
          row.paused_since === null &&
          (await store.pause(id, atIso, entry('paused', SYSTEM, bare('ticket.paused'), at)))
        ) {
          changed.add(id);
        } else if (
          !paused &&
          row.paused_since !== null &&
          (await store.resume(id, atIso, entry('resumed', SYSTEM, bare('ticket.resumed'), at)))
        ) {
          changed.add(id);
          moved.add(id);
        }
      }
      if (paused) continue;
      const fresh = moved.has(id)
        ? (await store.clocks(id)).find((c) => c.deadline === row.deadline)
        : row;
      if (fresh === undefined || fresh.done_at !== null) continue;
      const clock = slaClockAt(fresh, at, warnShare);
      const alert = (kind: SlaAlert['kind']): SlaAlert => ({
        kind,
        ticketId: id,
        siteId: row.site_id,
        deviceId: row.device_id,
        priority: row.priority,
        deadline: row.deadline,
        due: clock.due,
        at: atIso,
        title: say(JSON.parse(row.title_message) as Message),
      });
      // Marked in the database with its timeline entry in one transaction, and only if
      // not marked yet and still running: one alert per clock, whoever beats first.
      if (clock.state === 'breached' && fresh.breached_at === null) {
        const said = message('ticket.sla-breach', { deadline: row.deadline, due: clock.due });
        if (
          await store.markBreached(id, row.deadline, atIso, entry('sla-breach', SYSTEM, said, at))
        ) {
          alerts.push(alert('breach'));
          changed.add(id);
        }
      } else if (clock.state === 'warning' && fresh.warned_at === null) {
        const leftMin = Math.max(0, Math.round((Date.parse(clock.due) - at.getTime()) / 60_000));
        const said = message('ticket.sla-warning', { deadline: row.deadline, leftMin });
        if (
          await store.markWarned(id, row.deadline, atIso, entry('sla-warning', SYSTEM, said, at))
        ) {
          alerts.push(alert('warning'));
          changed.add(id);
        }
      }
    }
    for (const id of changed) emit(await store.get(id));
    for (const alert of alerts) opts.events.emit('sla', alert);
    return alerts;
  }

  return {
    start: () => store.start(),

    apply(detection) {
      // The instant it was handed over, not the instant its turn comes.
      const at = now();
      return inTurn(() => {
        switch (detection.kind) {
          case 'fault':
            return open(detection, at);
          case 'fault-cleared':
            return resolve(
              detection.siteId,
              detection.deviceId,
              detection.fault,
              detection.text,
              at,
            );
        }
      });
    },

    openManual,

    async act(id, action, actor) {
      const ticket = await store.get(id);
      if (ticket === undefined) {
        throw new VigilError('VIGIL_NOT_FOUND', `No ticket ${id}: check the id.`);
      }
      const { from, to } = transitions[action.action];
      const at = now().toISOString();
      const refuse = () =>
        new VigilError(
          'VIGIL_CONFLICT',
          `Ticket ${id} is ${ticket.status}; "${action.action}" is not possible now. ${conflictHint(ticket.status, action.action)}`,
        );
      if (!from.includes(ticket.status)) throw refuse();
      const step = stepFor(ticket, action, actor, at, await slaOf(ticket.siteId));
      const kind =
        action.action === 'acknowledge'
          ? 'acknowledged'
          : action.action === 'dispatch'
            ? 'dispatched'
            : action.action === 'resolve'
              ? 'resolved'
              : action.action === 'close'
                ? 'closed'
                : action.action;
      const changed = await store.step(id, from, to, step.fields, step.clocks, {
        at,
        kind,
        actor,
        message: step.said,
      });
      // Someone else moved the ticket between our read and our write.
      if (changed === undefined) throw refuse();
      emit(changed);
      return changed;
    },

    async cover(siteId, deviceId, fault, covers) {
      const current = await store.findOpen(siteId, deviceId, fault);
      if (current === undefined) return undefined;
      const same =
        JSON.stringify([...current.covers].sort()) === JSON.stringify([...covers].sort());
      if (same) return undefined;
      return emit(await coverTicket(current, covers))[0];
    },

    tick() {
      beatAt = now();
      waitingBeat ??= inTurn(() => {
        waitingBeat = null;
        return beat(beatAt);
      });
      return waitingBeat;
    },

    async idle() {
      // Work handed over while waiting joins the chain: wait until it stops growing.
      let seen: Promise<unknown> | undefined;
      while (seen !== chain) {
        seen = chain;
        await chain;
      }
    },

    async record(id, kind, actor, said) {
      return emit(await store.annotate(id, entry(kind, actor, said)))[0];
    },

    async clock(id, deadline, allowedMin, kind, actor, said) {
      const step = entry(kind, actor, said);
      const changed =
        allowedMin === null
          ? await store.endClock(id, deadline, step)
          : await store.startClock(id, deadline, allowedMin, step);
      return emit(changed)[0];
    },

    async report(id) {
      const ticket = await store.get(id);
      return ticket === undefined ? undefined : incidentReport(ticket, now());
    },
    list: (query) => store.list(query),
    get: (id) => store.get(id),
  };
}
