/**
 * The escalation engine (issue 15 parts 2, 5, 6): pages the right people about a ticket,
 * through the channels they carry, until someone acknowledges it.
 *
 *   'ticket' opened  -> the policy's `opened` steps at once (general ones into a digest),
 *                       its `unacknowledged` steps scheduled in SQLite
 *   due step         -> runs if the ticket is still `open` (not acknowledged)
 *   'sla' warning / breach -> the policy's sla-warning / sla-breach steps
 *   ticket leaves `open` (acknowledged, dispatched, resolved ...) -> its schedule is dropped
 *
 * Whom: the site's on-call answer (OnCallDirectory.onCall) at the moment the step runs,
 * the policy's roles (engineer, lead, supervisor, manager). Where: the covering team's
 * channels; a site no team covers goes to the channels marked default, for emergencies
 * and SLA alerts (so that a fresh install with one default channel already pages).
 *
 * Every message goes through the durable outbox (./outbox.ts); each delivery and failure
 * becomes a ticket timeline entry (`notified`, `notify-failed`, actor "system"). The
 * schedule and the digests live in SQLite (component "escalation"): after a restart the
 * overdue steps run at once.
 */
import type { SlaAlert } from '../../shared/api/live.js';
import type { NotifyPolicies, PolicyStep } from '../../shared/api/notify-policy.js';
import type { Ticket, TicketStatus } from '../../shared/api/tickets.js';
import { isAwaitingAcknowledgement } from '../../shared/ticket-workflow.js';
import { message, type NotifyStage } from '../../shared/wording/messages.js';
import { migrate, type Db, type Migration } from '../db.js';
import type { BrokerEvents } from '../events.js';
import { child, type Log } from '../log.js';
import type { TicketService } from '../tickets/types.js';
import { AckLinks } from './ack-link.js';
import { digestMessage, splitByPhone, ticketMessage } from './compose.js';
import type { EscalationConfig } from './config.js';
import type {
  ChannelInfo,
  ChannelRegistry,
  Language,
  OnCallDirectory,
  OutgoingMessage,
  Person,
} from './deps.js';
import { MESSAGE_FAILURES, Outbox, type Outcome, type OutboxRow } from './outbox.js';
import { digestDueAt, PolicyStore, stepsAt } from './policies.js';
import { ConfigWebhooks } from './webhook.js';

export interface EscalationOptions {
  db: Db;
  events: BrokerEvents;
  tickets: TicketService;
  directory: OnCallDirectory;
  channels: ChannelRegistry;
  /** The site's name and its customer (the site record's `customer` field). */
  sites: { get(siteId: string): { name: string; customer: string } };
  config: EscalationConfig;
  log: Log;
  now?: () => Date;
}

/** Still to be acknowledged (shared/ticket-workflow.ts: the rule the console's alarm reads). */
const awaiting = (status: TicketStatus | undefined): boolean =>
  status !== undefined && isAwaitingAcknowledgement(status);

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const DEFAULT_LANGUAGE: Language = 'zh-CN';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      -- Tickets whose escalation started, with the occurrence (a reopened ticket starts again).
      CREATE TABLE notify_tickets (
        ticket_id INTEGER PRIMARY KEY,
        occurrence INTEGER NOT NULL,
        started_at TEXT NOT NULL
      );
      -- Steps to come: the index of the step in its priority's policy, and when.
      CREATE TABLE notify_escalation (
        ticket_id INTEGER NOT NULL,
        step INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        PRIMARY KEY (ticket_id, step)
      );
      CREATE INDEX notify_escalation_due ON notify_escalation (due_at);
      -- Notifications waiting for their digest, per channel.
      CREATE TABLE notify_digest (
        ticket_id INTEGER NOT NULL,
        channel_id TEXT NOT NULL,
        message TEXT NOT NULL,
        queued_at INTEGER NOT NULL,
        opened_at INTEGER NOT NULL,
        respond_by INTEGER,
        every_ms INTEGER NOT NULL,
        PRIMARY KEY (ticket_id, channel_id)
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- The step itself (its JSON), not only its place: a PUT of the policies that inserts
      -- or removes a step moves the others, and a scheduled row must not run another step.
      ALTER TABLE notify_escalation ADD COLUMN step_json TEXT;
    `,
  },
];

/** A step as stored and compared: the same fields in the same order. */
const stepKey = (step: PolicyStep): string =>
  JSON.stringify({
    when: step.when,
    afterMin: step.afterMin ?? null,
    notify: step.notify,
    sms: step.sms,
  });

interface DigestRow {
  ticket_id: number;
  channel_id: string;
  message: string;
  queued_at: number;
  opened_at: number;
  respond_by: number | null;
  every_ms: number;
}

export class Escalations {
  readonly outbox: Outbox;
  readonly acks: AckLinks;
  readonly policies: PolicyStore;
  /** The config file's webhooks: channels of the outbox that take every ticket event. */
  readonly hooks: ConfigWebhooks;
  private readonly now: () => Date;
  private readonly log: Log;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Causes already logged (a site without a channel ...), so the line is not repeated. */
  private readonly unreachable = new Set<string>();

  constructor(private readonly opts: EscalationOptions) {
    this.now = opts.now ?? (() => new Date());
    this.log = child(opts.log, 'notify');
    this.hooks = new ConfigWebhooks(opts.config.webhooks);
    this.outbox = new Outbox({
      db: opts.db,
      channels: this.hooks.overlay(opts.channels),
      log: this.log,
      now: this.now,
      settings: opts.config.outbox,
      onOutcome: (row, outcome) => this.onOutcome(row, outcome),
      alertTargets: (channelId) => this.alertTargets(channelId),
      wanted: (row) => this.wanted(row),
      handOver: (row) => this.handOver(row),
    });
    this.acks = new AckLinks(opts.db, { ttlMs: opts.config.ackTtlMs, now: this.now });
    this.policies = new PolicyStore(opts.db, opts.config.policies, this.now);
  }

  start(): void {
    migrate(this.opts.db, 'escalation', migrations);
    this.policies.start();
    this.acks.start();
    this.outbox.start();
    if (this.opts.config.publicUrl === null)
      this.log.warn(
        'notify.publicUrl is not set: notifications carry no ticket or acknowledge link. Set it in the broker config to the address people reach the console at (https://vigil.example.com)',
      );
    const onTicket = (ticket: Ticket) => this.guard(() => this.onTicket(ticket));
    const onSla = (alert: SlaAlert) => this.guard(() => this.onSla(alert));
    this.opts.events.on('ticket', onTicket);
    this.opts.events.on('sla', onSla);
    this.unsubscribe = () => {
      this.opts.events.off('ticket', onTicket);
      this.opts.events.off('sla', onSla);
    };
    this.hooks.start(
      this.opts.events,
      (channelId, m) => this.guard(() => void this.outbox.enqueue(channelId, m)),
      this.now,
    );
    // Steps that fell due while the broker was down run now.
    this.run();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.hooks.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.outbox.stop();
  }

  /** Runs the due steps and digests now (the timer does; tests may). */
  run(): void {
    // The timer calls this: an exception here would be uncaught and end the broker.
    this.guard(() => {
      this.runDueSteps();
      this.flushDigests();
    });
    this.guard(() => this.schedule());
  }

  /** A notification must never break the ticket desk that emitted the event. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.log.error(
        `escalation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
  }

  private onTicket(ticket: Ticket): void {
    const { db } = this.opts;
    if (!isAwaitingAcknowledgement(ticket.status)) {
      // Acknowledged (respondedAt set), dispatched, on site, resolved or closed: nobody
      // needs to be chased any more; SLA alerts of the later deadlines still go out.
      db.prepare('DELETE FROM notify_escalation WHERE ticket_id = ?').run(ticket.id);
      db.prepare('DELETE FROM notify_digest WHERE ticket_id = ?').run(ticket.id);
      return;
    }
    const known = db
      .prepare('SELECT occurrence FROM notify_tickets WHERE ticket_id = ?')
      .get(ticket.id) as { occurrence: number } | undefined;
    if (known !== undefined && known.occurrence >= ticket.occurrences) return;
    // Only its opening (or reopening) starts a ticket's escalation: a ticket open since
    // before this broker notified (an upgrade) is not paged anew when a device joins it.
    const last = ticket.timeline.at(-1)?.kind;
    // 'reported': a manual ticket's opening (POST /api/tickets), paged like a detected one.
    if (last !== 'detected' && last !== 'reopened' && last !== 'reported') return;
    const now = this.now();
    const policy = this.policies.current()[ticket.priority];
    // The ticket becomes known together with its schedule, and before its first page: a
    // page that throws (directory, time zone, words) must not leave a known ticket with
    // no step to chase it.
    db.transaction(() => {
      db.prepare(
        `INSERT INTO notify_tickets (ticket_id, occurrence, started_at) VALUES (?, ?, ?)
         ON CONFLICT (ticket_id) DO UPDATE SET occurrence = excluded.occurrence, started_at = excluded.started_at`,
      ).run(ticket.id, ticket.occurrences, now.toISOString());
      const insert = db.prepare(
        'INSERT OR REPLACE INTO notify_escalation (ticket_id, step, due_at, step_json) VALUES (?, ?, ?, ?)',
      );
      policy.steps.forEach((step, index) => {
        if (step.when !== 'unacknowledged') return;
        // From now, not openedAt: a reopened ticket is chased from its reopening.
        insert.run(ticket.id, index, now.getTime() + (step.afterMin ?? 0) * 60_000, stepKey(step));
      });
    })();
    this.schedule();
    for (const step of stepsAt(policy, 'opened'))
      this.guard(() => this.notify(ticket, step, 'opened'));
  }

  private onSla(alert: SlaAlert): void {
    const ticket = this.opts.tickets.get(alert.ticketId);
    if (ticket === undefined || ticket.status === 'resolved' || ticket.status === 'closed') return;
    const when = alert.kind === 'warning' ? 'sla-warning' : 'sla-breach';
    const policy = this.policies.current()[ticket.priority];
    for (const step of stepsAt(policy, when)) this.notify(ticket, step, when, alert.deadline);
  }

  private runDueSteps(): void {
    const { db, tickets } = this.opts;
    const due = db
      .prepare(
        'SELECT ticket_id, step, step_json FROM notify_escalation WHERE due_at <= ? ORDER BY due_at',
      )
      .all(this.now().getTime()) as { ticket_id: number; step: number; step_json: string | null }[];
    for (const row of due) {
      // The step leaves the schedule only with its pages queued: one transaction.
      try {
        db.transaction(() => {
          db.prepare('DELETE FROM notify_escalation WHERE ticket_id = ? AND step = ?').run(
            row.ticket_id,
            row.step,
          );
          const ticket = tickets.get(row.ticket_id);
          if (!ticket || !isAwaitingAcknowledgement(ticket.status)) return;
          const steps = this.policies.current()[ticket.priority].steps;
          // Found by what it is, not where it was: a PUT of the policies may have moved it.
          // Rows older than the step's JSON go by their place, as they were written.
          const step =
            row.step_json === null
              ? steps[row.step]
              : steps.find((s) => s.when === 'unacknowledged' && stepKey(s) === row.step_json);
          if (step?.when !== 'unacknowledged') {
            // The policy changed meanwhile and has no such step any more.
            this.log.info(
              `escalation step of ticket ${row.ticket_id} not run: the ${ticket.priority} policy no longer has it (changed since the ticket opened)`,
            );
            return;
          }
          this.notify(ticket, step, 'unacknowledged');
        })();
      } catch (error) {
        // Kept, and tried again in a minute rather than at every pass.
        db.prepare('UPDATE notify_escalation SET due_at = ? WHERE ticket_id = ? AND step = ?').run(
          this.now().getTime() + 60_000,
          row.ticket_id,
          row.step,
        );
        this.log.error(
          `escalation step ${row.step} of ticket ${row.ticket_id} failed, tried again in 1 min: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    }
  }

  /** Sends the digests whose time came, one message per channel. */
  private flushDigests(): void {
    const { db, tickets } = this.opts;
    const rows = db.prepare('SELECT * FROM notify_digest ORDER BY queued_at').all() as DigestRow[];
    const byChannel = new Map<string, DigestRow[]>();
    for (const row of rows)
      byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
    const now = this.now().getTime();
    for (const [channelId, batch] of byChannel) {
      if (this.digestDue(batch) > now) continue;
      const messages = batch
        .filter((r) => awaiting(tickets.get(r.ticket_id)?.status))
        .map((r) => JSON.parse(r.message) as OutgoingMessage);
      // A text is read by one person: an SMS channel's digest goes per phone, with only
      // that person's tickets (the robots' one message mentions everyone in it).
      const groups =
        this.opts.channels.get(channelId)?.type === 'sms' ? byPhone(messages) : [messages];
      // Out of the waiting list only as the outbox's rows: one transaction.
      db.transaction(() => {
        db.prepare('DELETE FROM notify_digest WHERE channel_id = ?').run(channelId);
        for (const group of groups) {
          if (group.length === 1) this.outbox.enqueue(channelId, group[0]!);
          else if (group.length > 1) this.outbox.enqueue(channelId, digestMessage(group));
        }
      })();
    }
  }

  private digestDue(batch: DigestRow[]): number {
    return digestDueAt({
      firstQueuedAt: Math.min(...batch.map((r) => r.queued_at)),
      everyMs: Math.min(...batch.map((r) => r.every_ms)),
      tickets: batch.map((r) => ({ openedAt: r.opened_at, respondBy: r.respond_by })),
    });
  }

  private schedule(): void {
    if (this.unsubscribe === null) return;
    if (this.timer) clearTimeout(this.timer);
    const { db } = this.opts;
    const step = db.prepare('SELECT MIN(due_at) AS at FROM notify_escalation').get() as {
      at: number | null;
    };
    let at = step.at ?? Infinity;
    const rows = db.prepare('SELECT * FROM notify_digest').all() as DigestRow[];
    const byChannel = new Map<string, DigestRow[]>();
    for (const row of rows)
      byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
    for (const batch of byChannel.values()) at = Math.min(at, this.digestDue(batch));
    if (at === Infinity) return;
    const wait = Math.max(10, Math.min(at - this.now().getTime(), 60_000));
    this.timer = setTimeout(() => this.run(), wait);
    this.timer.unref();
  }

  /** One step of a policy for one ticket: whom, where, in which words; then the outbox. */
  private notify(ticket: Ticket, step: PolicyStep, stage: NotifyStage, deadline?: string): void {
    const { directory, channels, sites, config } = this.opts;
    const now = this.now();
    const onCall = directory.onCall(ticket.siteId, now);
    const team = onCall.team;
    const people: Person[] = [];
    for (const role of step.notify) {
      const person = onCall[role];
      if (person && !people.some((p) => p.id === person.id)) people.push(person);
    }
    // What the contract cannot leave unsaid: emergencies and SLA alerts.
    const needed =
      ticket.priority === 'emergency' || stage === 'sla-warning' || stage === 'sla-breach';
    const carries = (c: ChannelInfo) => c.enabled && (step.sms || c.type !== 'sms');
    let targets: ChannelInfo[];
    if (team !== null && team.channelIds.length > 0) {
      targets = team.channelIds
        .map((id) => channels.get(id))
        .filter((c): c is ChannelInfo => c !== undefined && carries(c));
      if (targets.length === 0) {
        // The team's channels were deleted, disabled, or are SMS only for a step without
        // SMS: the default channels, and for what the contract cannot leave unsaid every
        // other channel, rather than nobody.
        targets = this.fallback([], step.sms, needed);
        if (targets.length > 0)
          this.logOnce(
            `${ticket.siteId}|fallback`,
            `no channel of team ${team.id} can carry ticket ${ticket.id} of site ${ticket.siteId} (deleted, disabled, or SMS only); paging ${targets.map((c) => c.name).join(', ')} instead. Give the team a working channel in the console`,
          );
      }
    } else {
      // Nobody's policy covers the site: the default channels get what the contract
      // cannot leave unsaid (emergencies and SLA alerts).
      if (!needed) {
        // General and serious tickets of a site nobody covers page nobody, by design.
        this.logOnce(
          `${ticket.siteId}|uncovered`,
          `no team covers site ${ticket.siteId} (ticket ${ticket.id}): only emergencies and SLA alerts go to the default channels. Give the site a team in the console`,
        );
        return;
      }
      targets = channels.defaults().filter(carries);
    }
    if (targets.length === 0) {
      this.nowhere(
        ticket.id,
        `no channel reaches site ${ticket.siteId} (ticket ${ticket.id}): give its team a channel, or mark a channel default in the console`,
        ticket.siteId,
      );
      return;
    }
    const site = safeSite(sites, ticket.siteId);
    const base = config.publicUrl;
    // The link names whom it was sent to: the first person of the step (the engineer).
    const token = base === null ? null : this.acks.issue(ticket.id, people[0]?.id ?? null);
    const outgoing = ticketMessage({
      ticket,
      stage,
      ...(deadline !== undefined ? { deadline } : {}),
      language: team?.language ?? DEFAULT_LANGUAGE,
      timeZone: team?.timeZone ?? DEFAULT_TIME_ZONE,
      customer: site.customer,
      siteName: site.name,
      to: people,
      ticketUrl: base === null ? null : `${base}/#/tickets/${ticket.id}`,
      ackUrl: token === null ? null : `${base}/ack/${token}`,
    });
    // The channels it went to: a channel that refuses it for good hands it to others, not
    // to these again.
    outgoing.data = { ...(outgoing.data as object), channelIds: targets.map((c) => c.id) };
    // What the contract cannot leave unsaid does not sit out a service's long wait.
    if (needed) outgoing.urgent = true;
    const policy = this.policies.current()[ticket.priority];
    const digest = stage === 'opened' && policy.digestEveryMin !== null;
    // Every channel of the step or none: a retry of the event must not page some twice.
    this.opts.db.transaction(() => this.queue(ticket, targets, outgoing, digest, now))();
    if (digest) this.schedule();
  }

  private queue(
    ticket: Ticket,
    targets: ChannelInfo[],
    outgoing: OutgoingMessage,
    digest: boolean,
    now: Date,
  ): void {
    const policy = this.policies.current()[ticket.priority];
    for (const channel of targets) {
      if (digest) {
        this.opts.db
          .prepare(
            `INSERT OR REPLACE INTO notify_digest
               (ticket_id, channel_id, message, queued_at, opened_at, respond_by, every_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            ticket.id,
            channel.id,
            JSON.stringify(outgoing),
            now.getTime(),
            Date.parse(ticket.openedAt),
            ticket.respondBy === null ? null : Date.parse(ticket.respondBy),
            policy.digestEveryMin! * 60_000,
          );
      } else this.outbox.enqueue(channel.id, outgoing);
    }
  }

  /**
   * Whether a queued page is still worth sending when its turn (or its retry) comes: a
   * page chasing a response is not, once the ticket left `open` (acknowledged ...); an SLA
   * alert or a digest is, until its tickets are resolved or closed.
   */
  private wanted(row: OutboxRow): boolean {
    // A config-file hook takes every change of a ticket, whatever its status.
    if (this.hooks.has(row.channelId)) return true;
    const status = (id: number) => this.opts.tickets.get(id)?.status;
    const { kind } = row.message;
    if (kind === 'ticket') return row.ticketIds.some((id) => awaiting(status(id)));
    if (kind === 'sla' || kind === 'digest')
      return row.ticketIds.some((id) => {
        const s = status(id);
        return s !== undefined && s !== 'resolved' && s !== 'closed';
      });
    return true;
  }

  /**
   * Whether an urgent page this channel cannot deliver soon is carried elsewhere: by the
   * step's other channels (the robot beside the SMS), or by a fallback channel. A copy that
   * is itself a fallback, or a page with nowhere else to go, waits for its channel instead.
   */
  private handOver(row: OutboxRow): boolean {
    if (this.hooks.has(row.channelId)) return false;
    const data = (
      typeof row.message.data === 'object' && row.message.data !== null ? row.message.data : {}
    ) as { channelIds?: string[]; fallbackFrom?: string };
    if (data.fallbackFrom !== undefined) return false;
    const others = (data.channelIds ?? []).filter((id) => id !== row.channelId);
    return others.length > 0 || this.fallback([row.channelId], false, true).length > 0;
  }

  /**
   * Channels to page when the usual ones cannot: the enabled default channels except
   * `exclude`, and when none is left and `everyOther`, every other enabled channel.
   * Without SMS unless `sms`: a text is for the step that asked for one.
   */
  private fallback(exclude: readonly string[], sms: boolean, everyOther: boolean): ChannelInfo[] {
    const ok = (c: ChannelInfo) =>
      c.enabled && !exclude.includes(c.id) && (sms || c.type !== 'sms');
    const defaults = this.opts.channels.defaults().filter(ok);
    if (defaults.length > 0 || !everyOther) return defaults;
    return this.opts.channels.list().filter(ok);
  }

  /** Logs a cause once per process (habit 16), keyed by what it is about. */
  private logOnce(key: string, line: string): void {
    if (this.unreachable.has(key)) return;
    this.unreachable.add(key);
    this.log.warn(line);
  }

  /** A page that could go nowhere: in the log (once per cause) and on the ticket's timeline. */
  private nowhere(ticketId: number, line: string, key: string, channel?: string): void {
    this.logOnce(`${key}|nowhere`, line);
    this.opts.tickets.record(
      ticketId,
      'notify-failed',
      'system',
      message('notify.nowhere', channel !== undefined ? { channel } : {}),
    );
  }

  /**
   * A page refused for good (a revoked robot, a changed secret, a channel disabled or
   * unreadable) goes to the default channels, or when the failing one is the only default
   * to every other channel, once: a failing channel must not leave a ticket unsaid.
   */
  private reroute(row: OutboxRow, code: string): void {
    const { message: m } = row;
    if (m.kind !== 'ticket' && m.kind !== 'sla' && m.kind !== 'digest') return;
    // Nobody in it to text or mail: the robots of the step carried it.
    if (MESSAGE_FAILURES.has(code)) return;
    const data = (typeof m.data === 'object' && m.data !== null ? m.data : {}) as {
      channelIds?: string[];
      fallbackFrom?: string;
    };
    if (data.fallbackFrom !== undefined) return;
    const live = row.ticketIds.filter((id) => {
      const status = this.opts.tickets.get(id)?.status;
      return status !== undefined && status !== 'resolved' && status !== 'closed';
    });
    if (live.length === 0) return;
    const name = this.opts.channels.get(row.channelId)?.name ?? row.channelId;
    const targets = this.fallback([row.channelId, ...(data.channelIds ?? [])], false, true);
    const carriedElsewhere = (data.channelIds ?? []).some((id) => id !== row.channelId);
    if (targets.length === 0 && carriedElsewhere) {
      // The step's other channels (the robot beside the SMS) carried it; their own outcome
      // is on the timeline. Nothing else to hand it to.
      this.logOnce(
        `${row.channelId}|no-fallback`,
        `channel "${name}" (${row.channelId}) refused notification ${row.id} for good (${code}); no channel beyond the step's own is left to carry it. Add a default channel in the console`,
      );
      return;
    }
    if (targets.length === 0) {
      for (const id of live)
        this.nowhere(
          id,
          `channel "${name}" (${row.channelId}) refused notification ${row.id} for good and no other channel is enabled: ticket(s) ${live.join(', ')} reached nobody. Fix the channel or add another in the console`,
          row.channelId,
          name,
        );
      return;
    }
    const copy: OutgoingMessage = { ...m, data: { ...data, fallbackFrom: row.channelId } };
    for (const target of targets) this.outbox.enqueue(target.id, copy);
    this.log.warn(
      `channel "${name}" (${row.channelId}) refused notification ${row.id} for good; sent through ${targets.map((c) => c.name).join(', ')} instead`,
    );
    for (const id of live)
      this.opts.tickets.record(
        id,
        'notify-failed',
        'system',
        message('notify.fallback', { channel: name, to: targets.map((c) => c.name) }),
      );
  }

  /** Each outcome on the timeline of every ticket it carried. */
  private onOutcome(row: OutboxRow, outcome: Outcome): void {
    // A config-file hook's delivery is not a page: on the ticket's timeline it would be a
    // change of the ticket, which the hook then posts again, without end.
    if (this.hooks.has(row.channelId)) return;
    const channel = this.opts.channels.get(row.channelId)?.name ?? row.channelId;
    const to = row.message.to.map((r) => r.name);
    for (const id of row.ticketIds) {
      if (outcome.delivered) {
        this.opts.tickets.record(
          id,
          'notified',
          'system',
          message('notify.sent', { channel, to, ...(row.repeated ? { repeat: true } : {}) }),
        );
      } else if (outcome.final || row.attempts === 1) {
        // The first failure and the last: retries in between would flood the timeline.
        this.opts.tickets.record(
          id,
          'notify-failed',
          'system',
          message('notify.failed', {
            channel,
            to,
            code: outcome.code,
            message: outcome.message,
            final: outcome.final,
          }),
        );
      }
    }
    if (!outcome.delivered && outcome.final) this.reroute(row, outcome.code);
  }

  /**
   * A failing channel's alert: the other default channels, else every other enabled one
   * (the failing channel may be the only default). Not SMS or email: the alert names no
   * person, and those channels need one.
   */
  private alertTargets(failing: string): { channelIds: string[]; language: Language } {
    const list = this.fallback([failing], false, true).filter((c) => c.type !== 'email');
    return { channelIds: list.map((c) => c.id), language: DEFAULT_LANGUAGE };
  }

  /** The policies in force (GET /api/notify/policies). */
  currentPolicies(): NotifyPolicies {
    return this.policies.current();
  }
}

/** Messages grouped by recipient phone, each narrowed to that phone's people. */
function byPhone(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
  const groups = new Map<string, OutgoingMessage[]>();
  for (const m of messages)
    for (const [phone, part] of splitByPhone(m))
      groups.set(phone, [...(groups.get(phone) ?? []), part]);
  return [...groups.values()];
}

function safeSite(
  sites: EscalationOptions['sites'],
  siteId: string,
): { name: string; customer: string } {
  try {
    return sites.get(siteId);
  } catch {
    return { name: siteId, customer: '' };
  }
}
