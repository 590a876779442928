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
 * schedule and the digests live in the stores' database (broker/sql: SQLite, or
 * PostgreSQL on a pair; component "escalation"), never only in a timer: after a restart,
 * or on the node that takes over (reload()), the overdue steps run at once, each once: a
 * step leaves the schedule in the transaction that queues its pages.
 */
import type { SlaAlert } from '../../shared/api/live.js';
import type { NotifyPolicies, PolicyStep } from '../../shared/api/notify-policy.js';
import type { Ticket, TicketStatus } from '../../shared/api/tickets.js';
import { isAwaitingAcknowledgement } from '../../shared/ticket-workflow.js';
import { CoalescedRun } from '../../lib/coalesced-run.js';
import { message, type Message, type NotifyStage } from '../../shared/wording/messages.js';
import type { BrokerEvents } from '../events.js';
import { child, type Log } from '../log.js';
import {
  NotLeaderWriteError,
  type SqlDatabase,
  type SqlSession,
  type StoreMigration,
} from '../sql/types.js';
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

/** What a store answers, now or later: the stores move to broker/sql one by one (issue 17). */
type Maybe<T> = T | Promise<T>;

/** What the engine reads and writes of the tickets (broker/tickets/types.ts TicketService). */
export interface EscalationTickets {
  get(id: number): Maybe<Ticket | undefined>;
  record(id: number, kind: string, actor: string, said: Message): Maybe<unknown>;
}

export interface EscalationOptions {
  db: SqlDatabase;
  events: BrokerEvents;
  tickets: EscalationTickets;
  directory: OnCallDirectory;
  channels: ChannelRegistry;
  /** The site's name and its customer (the site record's `customer` field). */
  sites: { get(siteId: string): Maybe<{ name: string; customer: string }> };
  config: EscalationConfig;
  log: Log;
  now?: () => Date;
}

/** Still to be acknowledged (shared/ticket-workflow.ts: the rule the console's alarm reads). */
const awaiting = (status: TicketStatus | undefined): boolean =>
  status !== undefined && isAwaitingAcknowledgement(status);

const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
const DEFAULT_LANGUAGE: Language = 'zh-CN';

/**
 * Component "escalation", the versions of before broker/sql. Epoch milliseconds need 64
 * bits: SQLite's INTEGER has them, PostgreSQL's is 32-bit, so its text says BIGINT.
 */
const scheduleTables = (ms: 'INTEGER' | 'BIGINT') => `
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
        due_at ${ms} NOT NULL,
        PRIMARY KEY (ticket_id, step)
      );
      CREATE INDEX notify_escalation_due ON notify_escalation (due_at);
      -- Notifications waiting for their digest, per channel.
      CREATE TABLE notify_digest (
        ticket_id INTEGER NOT NULL,
        channel_id TEXT NOT NULL,
        message TEXT NOT NULL,
        queued_at ${ms} NOT NULL,
        opened_at ${ms} NOT NULL,
        respond_by ${ms},
        every_ms ${ms} NOT NULL,
        PRIMARY KEY (ticket_id, channel_id)
      );
    `;

const migrations: readonly StoreMigration[] = [
  { version: 1, sqlite: scheduleTables('INTEGER'), postgres: scheduleTables('BIGINT') },
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

/** What one step of a policy sends, worked out before anything is written. */
interface Pages {
  ticket: Ticket;
  targets: ChannelInfo[];
  outgoing: OutgoingMessage;
  digest: boolean;
  everyMs: number | null;
  now: Date;
}

/** How long a standby (its writes refused by the fence) waits before it looks again. */
const STANDBY_RETRY_MS = 5_000;

export class Escalations {
  readonly outbox: Outbox;
  readonly acks: AckLinks;
  readonly policies: PolicyStore;
  /** The config file's webhooks: channels of the outbox that take every ticket event. */
  readonly hooks: ConfigWebhooks;
  private readonly now: () => Date;
  private readonly log: Log;
  private readonly db: SqlDatabase;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Causes already logged (a site without a channel ...), so the line is not repeated. */
  private readonly unreachable = new Set<string>();
  /** The events' work, one at a time and in order: a ticket's opening before its acknowledgement. */
  private serial: Promise<void> = Promise.resolve();
  /** Passes one at a time; one asked for during a pass runs after it (lib/coalesced-run.ts). */
  private readonly passes = new CoalescedRun(
    async () => {
      if (this.standbyUntil > this.now().getTime()) return 'stop';
      await this.guard(() => this.runDueSteps());
      await this.guard(() => this.flushDigests());
    },
    // Asked again after the last pass began: run it now, while started (it used to wait
    // for the timer); else plan the next.
    (askedAgain) =>
      void (askedAgain && this.unsubscribe !== null
        ? this.run()
        : this.guard(() => this.schedule())),
  );
  /** This node does not lead (a write was refused by the fence): look again then. */
  private standbyUntil = 0;

  constructor(private readonly opts: EscalationOptions) {
    this.now = opts.now ?? (() => new Date());
    this.log = child(opts.log, 'notify');
    this.db = opts.db;
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

  async start(): Promise<void> {
    await this.db.migrate('escalation', migrations);
    await this.policies.start();
    await this.acks.start();
    await this.outbox.migrate();
    if (this.opts.config.publicUrl === null)
      this.log.warn(
        'notify.publicUrl is not set: notifications carry no ticket or acknowledge link. Set it in the broker config to the address people reach the console at (https://vigil.example.com)',
      );
    const onTicket = (ticket: Ticket) => this.serially(() => this.onTicket(ticket));
    const onSla = (alert: SlaAlert) => this.serially(() => this.onSla(alert));
    this.opts.events.on('ticket', onTicket);
    this.opts.events.on('sla', onSla);
    this.unsubscribe = () => {
      this.opts.events.off('ticket', onTicket);
      this.opts.events.off('sla', onSla);
    };
    this.hooks.start(
      this.opts.events,
      (channelId, m) => this.serially(async () => void (await this.outbox.enqueue(channelId, m))),
      this.now,
    );
    await this.outbox.start();
    // Steps that fell due while the broker was down (or no node led) run now.
    await this.run();
  }

  /**
   * What the engine keeps in memory, read again from the database, and the steps and
   * digests that fell due meanwhile run now (late, once): the new leader of a pair calls
   * it on takeover (broker/app.ts), after the ticket desk has reloaded its tickets.
   */
  async reload(): Promise<void> {
    this.standbyUntil = 0;
    await this.outbox.reload();
    await this.run();
  }

  /** Resolves when the events' work, the due steps and the outbox are all done (tests). */
  async idle(): Promise<void> {
    for (;;) {
      const serial = this.serial;
      await serial;
      await this.passes.current;
      await this.outbox.idle();
      if (serial === this.serial && this.passes.current === null) return;
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.hooks.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.serial;
    await this.passes.current;
    await this.outbox.stop();
  }

  /** Runs the due steps and digests now (the timer does; tests may). Never throws. */
  run(): Promise<void> {
    return this.passes.run();
  }

  /** An event's work after the ones before it; a failure is logged, never thrown. */
  private serially(work: () => Promise<void>): void {
    this.serial = this.serial.then(() => this.guard(work));
  }

  /** A notification must never break the ticket desk that emitted the event. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof NotLeaderWriteError) {
        // A standby: the leader pages. Said once, looked at again later, never spun on.
        if (this.standbyUntil === 0)
          this.log.info('escalation: this node does not lead; the leader pages');
        this.standbyUntil = this.now().getTime() + STANDBY_RETRY_MS;
        return;
      }
      this.log.error(
        `escalation failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
  }

  private async onTicket(ticket: Ticket): Promise<void> {
    const { db } = this;
    if (!isAwaitingAcknowledgement(ticket.status)) {
      // Acknowledged (respondedAt set), dispatched, on site, resolved or closed: nobody
      // needs to be chased any more; SLA alerts of the later deadlines still go out.
      await db.transaction(async (tx) => {
        await tx.run('DELETE FROM notify_escalation WHERE ticket_id = ?', [ticket.id]);
        await tx.run('DELETE FROM notify_digest WHERE ticket_id = ?', [ticket.id]);
      });
      return;
    }
    const known = await db.get<{ occurrence: number }>(
      'SELECT occurrence FROM notify_tickets WHERE ticket_id = ?',
      [ticket.id],
    );
    if (known !== undefined && known.occurrence >= ticket.occurrences) return;
    // Only its opening (or reopening) starts a ticket's escalation: a ticket open since
    // before this broker notified (an upgrade) is not paged anew when a device joins it.
    const last = ticket.timeline.at(-1)?.kind;
    // 'reported': a manual ticket's opening (POST /api/tickets), paged like a detected one.
    if (last !== 'detected' && last !== 'reopened' && last !== 'reported') return;
    const now = this.now();
    const policy = (await this.policies.current())[ticket.priority];
    // The ticket becomes known together with its schedule, and before its first page: a
    // page that throws (directory, time zone, words) must not leave a known ticket with
    // no step to chase it.
    await db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO notify_tickets (ticket_id, occurrence, started_at) VALUES (?, ?, ?)
         ON CONFLICT (ticket_id) DO UPDATE SET occurrence = excluded.occurrence, started_at = excluded.started_at`,
        [ticket.id, ticket.occurrences, now.toISOString()],
      );
      for (const [index, step] of policy.steps.entries()) {
        if (step.when !== 'unacknowledged') continue;
        // From now, not openedAt: a reopened ticket is chased from its reopening.
        await tx.run(
          `INSERT INTO notify_escalation (ticket_id, step, due_at, step_json) VALUES (?, ?, ?, ?)
           ON CONFLICT (ticket_id, step) DO UPDATE SET due_at = excluded.due_at, step_json = excluded.step_json`,
          [ticket.id, index, now.getTime() + (step.afterMin ?? 0) * 60_000, stepKey(step)],
        );
      }
    });
    await this.schedule();
    for (const step of stepsAt(policy, 'opened'))
      await this.guard(() => this.notify(ticket, step, 'opened'));
  }

  private async onSla(alert: SlaAlert): Promise<void> {
    const ticket = await this.opts.tickets.get(alert.ticketId);
    if (ticket === undefined || ticket.status === 'resolved' || ticket.status === 'closed') return;
    const when = alert.kind === 'warning' ? 'sla-warning' : 'sla-breach';
    const policy = (await this.policies.current())[ticket.priority];
    for (const step of stepsAt(policy, when)) await this.notify(ticket, step, when, alert.deadline);
  }

  private async runDueSteps(): Promise<void> {
    const { db } = this;
    const { tickets } = this.opts;
    const due = await db.all<{ ticket_id: number; step: number; step_json: string | null }>(
      'SELECT ticket_id, step, step_json FROM notify_escalation WHERE due_at <= ? ORDER BY due_at',
      [this.now().getTime()],
    );
    const policies = due.length > 0 ? await this.policies.current() : null;
    for (const row of due) {
      // The step leaves the schedule in the transaction that queues its pages: it runs
      // once, on whichever node takes it (the other's delete finds nothing).
      const take = (tx: SqlSession) =>
        tx.run('DELETE FROM notify_escalation WHERE ticket_id = ? AND step = ?', [
          row.ticket_id,
          row.step,
        ]);
      try {
        const ticket = await tickets.get(row.ticket_id);
        if (!ticket || !isAwaitingAcknowledgement(ticket.status)) {
          await take(db);
          continue;
        }
        const steps = policies![ticket.priority].steps;
        // Found by what it is, not where it was: a PUT of the policies may have moved it.
        // Rows older than the step's JSON go by their place, as they were written.
        const step =
          row.step_json === null
            ? steps[row.step]
            : steps.find((s) => s.when === 'unacknowledged' && stepKey(s) === row.step_json);
        if (step?.when !== 'unacknowledged') {
          // The policy changed meanwhile and has no such step any more.
          await take(db);
          this.log.info(
            `escalation step of ticket ${row.ticket_id} not run: the ${ticket.priority} policy no longer has it (changed since the ticket opened)`,
          );
          continue;
        }
        const pages = await this.pages(ticket, step, 'unacknowledged');
        if (pages === null) {
          await take(db);
          continue;
        }
        const taken = await db.transaction(async (tx) => {
          if ((await take(tx)).changes === 0) return false;
          await this.write(pages, tx);
          return true;
        });
        if (taken) this.outbox.wake();
      } catch (error) {
        if (error instanceof NotLeaderWriteError) throw error;
        // Kept, and tried again in a minute rather than at every pass.
        await db
          .run('UPDATE notify_escalation SET due_at = ? WHERE ticket_id = ? AND step = ?', [
            this.now().getTime() + 60_000,
            row.ticket_id,
            row.step,
          ])
          .catch(() => {});
        this.log.error(
          `escalation step ${row.step} of ticket ${row.ticket_id} failed, tried again in 1 min: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        );
      }
    }
  }

  /** Sends the digests whose time came, one message per channel. */
  private async flushDigests(): Promise<void> {
    const { db } = this;
    const { tickets } = this.opts;
    const rows = await db.all<DigestRow>('SELECT * FROM notify_digest ORDER BY queued_at');
    const byChannel = new Map<string, DigestRow[]>();
    for (const row of rows)
      byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
    const now = this.now().getTime();
    for (const [channelId, batch] of byChannel) {
      if (this.digestDue(batch) > now) continue;
      const live = new Set<number>();
      for (const r of batch)
        if (awaiting((await tickets.get(r.ticket_id))?.status)) live.add(r.ticket_id);
      const type = (await this.opts.channels.get(channelId))?.type ?? 'unknown';
      // Out of the waiting list only as the outbox's rows: one transaction, and only the
      // rows this transaction took (another node's flush, or a row queued since, not twice).
      const queued = await db.transaction(async (tx) => {
        const messages: OutgoingMessage[] = [];
        for (const r of batch) {
          const { changes } = await tx.run(
            'DELETE FROM notify_digest WHERE ticket_id = ? AND channel_id = ? AND queued_at = ?',
            [r.ticket_id, r.channel_id, r.queued_at],
          );
          if (changes === 1 && live.has(r.ticket_id))
            messages.push(JSON.parse(r.message) as OutgoingMessage);
        }
        // A text is read by one person: an SMS channel's digest goes per phone, with only
        // that person's tickets (the robots' one message mentions everyone in it).
        const groups = type === 'sms' ? byPhone(messages) : [messages];
        for (const group of groups) {
          if (group.length === 1) await this.outbox.enqueue(channelId, group[0]!, tx, type);
          else if (group.length > 1)
            await this.outbox.enqueue(channelId, digestMessage(group), tx, type);
        }
        return messages.length;
      });
      if (queued > 0) this.outbox.wake();
    }
  }

  private digestDue(batch: DigestRow[]): number {
    return digestDueAt({
      firstQueuedAt: Math.min(...batch.map((r) => r.queued_at)),
      everyMs: Math.min(...batch.map((r) => r.every_ms)),
      tickets: batch.map((r) => ({ openedAt: r.opened_at, respondBy: r.respond_by })),
    });
  }

  /** The timer, at the next step or digest due (at most a minute away: it looks again). */
  private async schedule(): Promise<void> {
    if (this.unsubscribe === null) return;
    const { db } = this;
    const step = await db.get<{ at: number | null }>(
      'SELECT MIN(due_at) AS at FROM notify_escalation',
    );
    let at = step?.at ?? Infinity;
    const rows = await db.all<DigestRow>('SELECT * FROM notify_digest');
    const byChannel = new Map<string, DigestRow[]>();
    for (const row of rows)
      byChannel.set(row.channel_id, [...(byChannel.get(row.channel_id) ?? []), row]);
    for (const batch of byChannel.values()) at = Math.min(at, this.digestDue(batch));
    if (this.unsubscribe === null) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (at === Infinity) return;
    at = Math.max(at, this.standbyUntil);
    const wait = Math.max(10, Math.min(at - this.now().getTime(), 60_000));
    this.timer = setTimeout(() => void this.run(), wait);
    this.timer.unref();
  }

  /** One step of a policy for one ticket: whom, where, in which words; then the outbox. */
  private async notify(
    ticket: Ticket,
    step: PolicyStep,
    stage: NotifyStage,
    deadline?: string,
  ): Promise<void> {
    const pages = await this.pages(ticket, step, stage, deadline);
    if (pages === null) return;
    // Every channel of the step or none: a retry of the event must not page some twice.
    await this.db.transaction((tx) => this.write(pages, tx));
    this.outbox.wake();
    if (pages.digest) await this.schedule();
  }

  /**
   * Whom a step pages, where, in which words: read from the directory, the channels and
   * the site before any write (inside a transaction only its own session may be used).
   * Null: nowhere to send it (said in the log and on the timeline).
   */
  private async pages(
    ticket: Ticket,
    step: PolicyStep,
    stage: NotifyStage,
    deadline?: string,
  ): Promise<Pages | null> {
    const { directory, channels, sites, config } = this.opts;
    const now = this.now();
    const onCall = await directory.onCall(ticket.siteId, now);
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
      targets = [];
      for (const id of team.channelIds) {
        const c = await channels.get(id);
        if (c !== undefined && carries(c)) targets.push(c);
      }
      if (targets.length === 0) {
        // The team's channels were deleted, disabled, or are SMS only for a step without
        // SMS: the default channels, and for what the contract cannot leave unsaid every
        // other channel, rather than nobody.
        targets = await this.fallback([], step.sms, needed);
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
        return null;
      }
      targets = (await channels.defaults()).filter(carries);
    }
    if (targets.length === 0) {
      await this.nowhere(
        ticket.id,
        `no channel reaches site ${ticket.siteId} (ticket ${ticket.id}): give its team a channel, or mark a channel default in the console`,
        ticket.siteId,
      );
      return null;
    }
    const site = await safeSite(sites, ticket.siteId);
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
    const policy = (await this.policies.current())[ticket.priority];
    const digest = stage === 'opened' && policy.digestEveryMin !== null;
    return {
      ticket,
      targets,
      outgoing,
      digest,
      everyMs: policy.digestEveryMin === null ? null : policy.digestEveryMin * 60_000,
      now,
    };
  }

  /** The pages of a step into the outbox (or the digests), inside the caller's transaction. */
  private async write(pages: Pages, tx: SqlSession): Promise<void> {
    const { ticket, outgoing, now } = pages;
    for (const channel of pages.targets) {
      if (pages.digest && pages.everyMs !== null) {
        await tx.run(
          `INSERT INTO notify_digest
             (ticket_id, channel_id, message, queued_at, opened_at, respond_by, every_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (ticket_id, channel_id) DO UPDATE SET message = excluded.message,
             queued_at = excluded.queued_at, opened_at = excluded.opened_at,
             respond_by = excluded.respond_by, every_ms = excluded.every_ms`,
          [
            ticket.id,
            channel.id,
            JSON.stringify(outgoing),
            now.getTime(),
            Date.parse(ticket.openedAt),
            ticket.respondBy === null ? null : Date.parse(ticket.respondBy),
            pages.everyMs,
          ],
        );
      } else await this.outbox.enqueue(channel.id, outgoing, tx, channel.type);
    }
  }

  /**
   * Whether a queued page is still worth sending when its turn (or its retry) comes: a
   * page chasing a response is not, once the ticket left `open` (acknowledged ...); an SLA
   * alert or a digest is, until its tickets are resolved or closed.
   */
  private async wanted(row: OutboxRow): Promise<boolean> {
    // A config-file hook takes every change of a ticket, whatever its status.
    if (this.hooks.has(row.channelId)) return true;
    const statuses: (TicketStatus | undefined)[] = [];
    for (const id of row.ticketIds) statuses.push((await this.opts.tickets.get(id))?.status);
    const { kind } = row.message;
    if (kind === 'ticket') return statuses.some((s) => awaiting(s));
    if (kind === 'sla' || kind === 'digest')
      return statuses.some((s) => s !== undefined && s !== 'resolved' && s !== 'closed');
    return true;
  }

  /**
   * Whether an urgent page this channel cannot deliver soon is carried elsewhere: by the
   * step's other channels (the robot beside the SMS), or by a fallback channel. A copy that
   * is itself a fallback, or a page with nowhere else to go, waits for its channel instead.
   */
  private async handOver(row: OutboxRow): Promise<boolean> {
    if (this.hooks.has(row.channelId)) return false;
    const data = (
      typeof row.message.data === 'object' && row.message.data !== null ? row.message.data : {}
    ) as { channelIds?: string[]; fallbackFrom?: string };
    if (data.fallbackFrom !== undefined) return false;
    const others = (data.channelIds ?? []).filter((id) => id !== row.channelId);
    return others.length > 0 || (await this.fallback([row.channelId], false, true)).length > 0;
  }

  /**
   * Channels to page when the usual ones cannot: the enabled default channels except
   * `exclude`, and when none is left and `everyOther`, every other enabled channel.
   * Without SMS unless `sms`: a text is for the step that asked for one.
   */
  private async fallback(
    exclude: readonly string[],
    sms: boolean,
    everyOther: boolean,
  ): Promise<ChannelInfo[]> {
    const ok = (c: ChannelInfo) =>
      c.enabled && !exclude.includes(c.id) && (sms || c.type !== 'sms');
    const defaults = (await this.opts.channels.defaults()).filter(ok);
    if (defaults.length > 0 || !everyOther) return defaults;
    return (await this.opts.channels.list()).filter(ok);
  }

  /** Logs a cause once per process (habit 16), keyed by what it is about. */
  private logOnce(key: string, line: string): void {
    if (this.unreachable.has(key)) return;
    this.unreachable.add(key);
    this.log.warn(line);
  }

  /** A page that could go nowhere: in the log (once per cause) and on the ticket's timeline. */
  private async nowhere(
    ticketId: number,
    line: string,
    key: string,
    channel?: string,
  ): Promise<void> {
    this.logOnce(`${key}|nowhere`, line);
    await this.opts.tickets.record(
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
  private async reroute(row: OutboxRow, code: string): Promise<void> {
    const { message: m } = row;
    if (m.kind !== 'ticket' && m.kind !== 'sla' && m.kind !== 'digest') return;
    // Nobody in it to text or mail: the robots of the step carried it.
    if (MESSAGE_FAILURES.has(code)) return;
    const data = (typeof m.data === 'object' && m.data !== null ? m.data : {}) as {
      channelIds?: string[];
      fallbackFrom?: string;
    };
    if (data.fallbackFrom !== undefined) return;
    const live: number[] = [];
    for (const id of row.ticketIds) {
      const status = (await this.opts.tickets.get(id))?.status;
      if (status !== undefined && status !== 'resolved' && status !== 'closed') live.push(id);
    }
    if (live.length === 0) return;
    const name = (await this.opts.channels.get(row.channelId))?.name ?? row.channelId;
    const targets = await this.fallback([row.channelId, ...(data.channelIds ?? [])], false, true);
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
        await this.nowhere(
          id,
          `channel "${name}" (${row.channelId}) refused notification ${row.id} for good and no other channel is enabled: ticket(s) ${live.join(', ')} reached nobody. Fix the channel or add another in the console`,
          row.channelId,
          name,
        );
      return;
    }
    const copy: OutgoingMessage = { ...m, data: { ...data, fallbackFrom: row.channelId } };
    // Every fallback channel or none, as a step's pages.
    await this.db.transaction(async (tx) => {
      for (const target of targets) await this.outbox.enqueue(target.id, copy, tx, target.type);
    });
    this.outbox.wake();
    this.log.warn(
      `channel "${name}" (${row.channelId}) refused notification ${row.id} for good; sent through ${targets.map((c) => c.name).join(', ')} instead`,
    );
    for (const id of live)
      await this.opts.tickets.record(
        id,
        'notify-failed',
        'system',
        message('notify.fallback', { channel: name, to: targets.map((c) => c.name) }),
      );
  }

  /** Each outcome on the timeline of every ticket it carried. */
  private async onOutcome(row: OutboxRow, outcome: Outcome): Promise<void> {
    // A config-file hook's delivery is not a page: on the ticket's timeline it would be a
    // change of the ticket, which the hook then posts again, without end.
    if (this.hooks.has(row.channelId)) return;
    const channel = (await this.opts.channels.get(row.channelId))?.name ?? row.channelId;
    const to = row.message.to.map((r) => r.name);
    for (const id of row.ticketIds) {
      if (outcome.delivered) {
        await this.opts.tickets.record(
          id,
          'notified',
          'system',
          message('notify.sent', { channel, to, ...(row.repeated ? { repeat: true } : {}) }),
        );
      } else if (outcome.final || row.attempts === 1) {
        // The first failure and the last: retries in between would flood the timeline.
        await this.opts.tickets.record(
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
    if (!outcome.delivered && outcome.final) await this.reroute(row, outcome.code);
  }

  /**
   * A failing channel's alert: the other default channels, else every other enabled one
   * (the failing one may be the only default). Not SMS or email: the alert names no
   * person, and those channels need one.
   */
  private async alertTargets(
    failing: string,
  ): Promise<{ channelIds: string[]; language: Language }> {
    const list = (await this.fallback([failing], false, true)).filter((c) => c.type !== 'email');
    return { channelIds: list.map((c) => c.id), language: DEFAULT_LANGUAGE };
  }

  /** The policies in force (GET /api/notify/policies). */
  currentPolicies(): Promise<NotifyPolicies> {
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

async function safeSite(
  sites: EscalationOptions['sites'],
  siteId: string,
): Promise<{ name: string; customer: string }> {
  try {
    return await sites.get(siteId);
  } catch {
    return { name: siteId, customer: '' };
  }
}
