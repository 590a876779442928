/**
 * The detector's state in the stores' database (broker/sql/: vigil.db, or PostgreSQL on a
 * pair), so a broker restart, or the standby taking over, neither forgets a flapping
 * episode (its ticket would then need a person to resolve it), nor the devices a parent
 * ticket suppresses (they would get tickets of their own, or the site ticket would stay
 * open), nor which agents were gone. Three tables, written through after every input: only
 * the rows that changed since the last save are written, in one transaction.
 *
 *   detect_conditions  the active conditions (./conditions.ts), ticketed or held or suppressed
 *   detect_failures    per device, the failure times within the flapping window
 *   detect_agents      agent liveness (online, last seen, why offline)
 */
import { message, type Message } from '../../shared/wording/messages.js';
import type { SqlDatabase, SqlSession, StoreMigration } from '../sql/types.js';
import type { AgentLiveness } from './agent-table.js';
import { conditionKey, type Condition } from './conditions.js';

// `key` is a column name both engines take (non-reserved in PostgreSQL).
const migrations: StoreMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE detect_conditions (key TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE detect_failures (key TEXT PRIMARY KEY, times TEXT NOT NULL);
      CREATE TABLE detect_agents (key TEXT PRIMARY KEY, body TEXT NOT NULL);
    `,
  },
];

/** Rows per statement: 2 parameters each, far below both engines' limits. */
const ROWS_PER_STATEMENT = 500;

export interface DetectorSnapshot {
  /** Every active condition: one missing from the snapshot is deleted. */
  conditions: Condition[];
  /** Failure times (ms) per `site|device`, all of them: a device missing is deleted. */
  failures: Map<string, number[]>;
  /**
   * Saving: the agents whose liveness changed since the last save; the others stay as
   * saved (an agent is never forgotten). Loading: every agent.
   */
  agents: AgentLiveness[];
}

type Table = 'detect_conditions' | 'detect_failures' | 'detect_agents';

export class DetectStateStore {
  /** What each table holds now, by key, as written: a save writes only the differences. */
  private readonly saved: Record<Table, Map<string, string>> = {
    detect_conditions: new Map(),
    detect_failures: new Map(),
    detect_agents: new Map(),
  };

  constructor(private readonly db: SqlDatabase) {}

  /** Creates the tables. */
  async start(): Promise<void> {
    await this.db.migrate('detect', migrations);
  }

  /** What the tables hold now (what the previous run, or the previous leader, left). */
  async load(): Promise<DetectorSnapshot> {
    const read = async <T>(table: Table): Promise<[string, T][]> => {
      const rows = await this.db.all<{ key: string; value: string }>(
        `SELECT key, ${columnOf(table)} AS value FROM ${table}`,
      );
      this.saved[table] = new Map(rows.map(({ key, value }) => [key, value]));
      return rows.map(({ key, value }) => [key, JSON.parse(value) as T]);
    };
    const conditions = await read<Condition>('detect_conditions');
    const failures = await read<number[]>('detect_failures');
    const agents = await read<AgentLiveness>('detect_agents');
    return {
      conditions: conditions.map(([, c]) => withMessages(c)),
      failures: new Map(failures),
      agents: agents.map(([, a]) => a),
    };
  }

  /**
   * Writes what changed since the last save (or load), in one transaction: conditions and
   * failure times as whole snapshots, agents as the changed ones. The snapshot is
   * read before the first await, so the caller may change its state meanwhile. Never call
   * it again before the last call settled: each save is a difference against the last.
   */
  async save(snapshot: DetectorSnapshot): Promise<void> {
    const next: Record<Table, Map<string, string>> = {
      detect_conditions: new Map(
        snapshot.conditions.map((c) => [
          conditionKey(c.siteId, c.deviceId, c.fault),
          JSON.stringify(c),
        ]),
      ),
      detect_failures: new Map(
        [...snapshot.failures].map(([key, times]) => [key, JSON.stringify(times)]),
      ),
      detect_agents: new Map(
        snapshot.agents.map((a) => [`${a.siteId}|${a.agentId}`, JSON.stringify(a)]),
      ),
    };
    const changes = {
      upserts: new Map<Table, [string, string][]>(),
      deletes: new Map<Table, string[]>(),
    };
    let count = 0;
    for (const table of Object.keys(next) as Table[]) {
      const before = this.saved[table];
      const upserts: [string, string][] = [];
      for (const [key, value] of next[table])
        if (before.get(key) !== value) upserts.push([key, value]);
      // The agents are the changed ones only (DetectorSnapshot): none is deleted.
      const deletes =
        table === 'detect_agents' ? [] : [...before.keys()].filter((key) => !next[table].has(key));
      changes.upserts.set(table, upserts);
      changes.deletes.set(table, deletes);
      count += upserts.length + deletes.length;
    }
    if (count === 0) return;
    await this.db.transaction(async (tx) => {
      for (const table of Object.keys(next) as Table[]) {
        await upsert(tx, table, changes.upserts.get(table)!);
        await remove(tx, table, changes.deletes.get(table)!);
      }
    });
    for (const table of Object.keys(next) as Table[]) {
      for (const [key, value] of changes.upserts.get(table)!) this.saved[table].set(key, value);
      for (const key of changes.deletes.get(table)!) this.saved[table].delete(key);
    }
  }
}

function columnOf(table: Table): 'body' | 'times' {
  return table === 'detect_failures' ? 'times' : 'body';
}

/** Many rows in one statement per chunk: a reconnecting fleet changes hundreds at once. */
async function upsert(tx: SqlSession, table: Table, rows: [string, string][]): Promise<void> {
  const column = columnOf(table);
  for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
    await tx.run(
      `INSERT INTO ${table} (key, ${column}) VALUES ${chunk.map(() => '(?, ?)').join(', ')}
       ON CONFLICT (key) DO UPDATE SET ${column} = excluded.${column}`,
      chunk.flat(),
    );
  }
}

async function remove(tx: SqlSession, table: Table, keys: string[]): Promise<void> {
  for (let at = 0; at < keys.length; at += ROWS_PER_STATEMENT) {
    const chunk = keys.slice(at, at + ROWS_PER_STATEMENT);
    await tx.run(`DELETE FROM ${table} WHERE key IN (${chunk.map(() => '?').join(', ')})`, chunk);
  }
}

/**
 * A condition saved before titles and texts were messages with codes held English
 * sentences: they are kept as they were, as text messages.
 */
function withMessages(condition: Condition): Condition {
  const asMessage = (value: Message | string): Message =>
    typeof value === 'string' ? message('text', { text: value }) : value;
  return {
    ...condition,
    title: asMessage(condition.title as Message | string),
    text: asMessage(condition.text as Message | string),
  };
}
