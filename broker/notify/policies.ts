/**
 * Escalation policies as data (shared/api/notify-policy.ts): the contract's defaults,
 * the broker config's `notify.policies` over them, and what an admin saved through
 * PUT /api/notify/policies over both (kept in the stores' database, broker/sql, component
 * "notify-policies": both nodes of a pair page by the same policies).
 * Also the digest timing of priorities that bundle their notifications.
 */
import type { NotifyPolicies, PolicyStep, PriorityPolicy } from '../../shared/api/notify-policy.js';
import type { Priority } from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import type { SqlDatabase, StoreMigration } from '../sql/types.js';

/**
 * The contract's defaults (issue 15 part 2): an emergency pages the on-call engineer at
 * once by robot with an @-mention and SMS, again with the team lead after 5 minutes
 * without acknowledgement, the supervisor at the SLA warning, the manager at the breach;
 * serious ones the same without SMS; general ones in a digest at most every 30 minutes.
 */
export const defaultPolicies: NotifyPolicies = {
  emergency: {
    steps: [
      { when: 'opened', notify: ['engineer'], sms: true },
      { when: 'unacknowledged', afterMin: 5, notify: ['engineer', 'lead'], sms: true },
      { when: 'sla-warning', notify: ['supervisor'], sms: true },
      { when: 'sla-breach', notify: ['manager'], sms: true },
    ],
    digestEveryMin: null,
  },
  serious: {
    steps: [
      { when: 'opened', notify: ['engineer'], sms: false },
      { when: 'unacknowledged', afterMin: 10, notify: ['engineer', 'lead'], sms: false },
      { when: 'sla-warning', notify: ['supervisor'], sms: false },
      { when: 'sla-breach', notify: ['manager'], sms: false },
    ],
    digestEveryMin: null,
  },
  general: {
    steps: [
      { when: 'opened', notify: ['engineer'], sms: false },
      { when: 'sla-breach', notify: ['lead'], sms: false },
    ],
    digestEveryMin: 30,
  },
};

/** Steps that cannot run as written, each with its path; empty when the policies are sound. */
export function policyProblems(policies: NotifyPolicies): string[] {
  const problems: string[] = [];
  for (const priority of ['emergency', 'serious', 'general'] as const) {
    policies[priority].steps.forEach((step, i) => {
      const path = `${priority}/steps/${i}`;
      if (step.when === 'unacknowledged' && step.afterMin === undefined)
        problems.push(
          `${path}/afterMin: required for an unacknowledged step (minutes after opening)`,
        );
      if (step.when !== 'unacknowledged' && step.afterMin !== undefined)
        problems.push(`${path}/afterMin: only an unacknowledged step waits; remove it`);
    });
  }
  return problems;
}

/** The defaults with the broker config's policies over them, priority by priority. */
export function mergePolicies(
  base: NotifyPolicies,
  over: Partial<Record<Priority, Partial<PriorityPolicy>>> | undefined,
): NotifyPolicies {
  const merged = { ...base };
  for (const priority of ['emergency', 'serious', 'general'] as const) {
    const o = over?.[priority];
    if (o) merged[priority] = { ...base[priority], ...o };
  }
  return merged;
}

/** The steps of a priority that run at `when`. */
export function stepsAt(policy: PriorityPolicy, when: PolicyStep['when']): PolicyStep[] {
  return policy.steps.filter((s) => s.when === when);
}

/**
 * When a digest of general notifications goes out: `everyMs` after its first ticket
 * joined, but never later than just before half of any of its tickets' response time
 * (opened -> respondBy) has passed, night or day. The margin (a tenth of the half, at
 * most a minute) leaves the channel time to deliver it. Pure: tested alone.
 */
export function digestDueAt(batch: {
  firstQueuedAt: number;
  everyMs: number;
  /** Per ticket: opened and respond-by, epoch ms; respondBy null: no response deadline. */
  tickets: { openedAt: number; respondBy: number | null }[];
}): number {
  let due = batch.firstQueuedAt + batch.everyMs;
  for (const t of batch.tickets) {
    if (t.respondBy === null) continue;
    const half = (t.respondBy - t.openedAt) / 2;
    due = Math.min(due, t.openedAt + half - Math.min(60_000, half / 10));
  }
  return due;
}

// The same text on both engines (TEXT JSON, TEXT times).
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE notify_policies (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        policies TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL
      );
    `,
  },
];

/** The policies in force: saved ones if an admin saved any, else the configured ones. */
export class PolicyStore {
  constructor(
    private readonly db: SqlDatabase,
    private readonly configured: NotifyPolicies,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(): Promise<void> {
    await this.db.migrate('notify-policies', migrations);
  }

  async current(): Promise<NotifyPolicies> {
    const row = await this.db.get<{ policies: string }>(
      'SELECT policies FROM notify_policies WHERE id = 1',
    );
    return row === undefined ? this.configured : (JSON.parse(row.policies) as NotifyPolicies);
  }

  /** Replaces the policies; VIGIL_BAD_REQUEST lists every step that cannot run. */
  async save(policies: NotifyPolicies, by: string): Promise<NotifyPolicies> {
    const problems = policyProblems(policies);
    if (problems.length > 0)
      throw new VigilError(
        'VIGIL_BAD_REQUEST',
        'The policies have steps that cannot run.',
        problems,
      );
    await this.db.run(
      `INSERT INTO notify_policies (id, policies, updated_at, updated_by) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET policies = excluded.policies,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [JSON.stringify(policies), this.now().toISOString(), by],
    );
    return policies;
  }
}
