/**
 * The detector's state in SQLite (vigil.db), so a broker restart neither forgets a
 * flapping episode (its ticket would then need a person to resolve it), nor the devices a
 * parent ticket suppresses (they would get tickets of their own, or the site ticket would
 * stay open), nor which agents were gone. Three tables, written through after every
 * input: only the rows that changed since the last save are written.
 *
 *   detect_conditions  the active conditions (./conditions.ts), ticketed or held or suppressed
 *   detect_failures    per device, the failure times within the flapping window
 *   detect_agents      agent liveness (online, last seen, why offline)
 */
import { migrate, type Db, type Migration } from '../db.js';
import { message, type Message } from '../../shared/wording/messages.js';
import type { AgentLiveness } from './agent-table.js';
import { conditionKey, type Condition } from './conditions.js';

const migrations: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE detect_conditions (key TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE detect_failures (key TEXT PRIMARY KEY, times TEXT NOT NULL);
      CREATE TABLE detect_agents (key TEXT PRIMARY KEY, body TEXT NOT NULL);
    `,
  },
];

export interface DetectorSnapshot {
  conditions: Condition[];
  /** Failure times (ms) per `site|device`. */
  failures: Map<string, number[]>;
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

  constructor(private readonly db: Db) {}

  /** Creates the tables; returns what the previous run left. */
  start(): DetectorSnapshot {
    migrate(this.db, 'detect', migrations);
    const rows = (table: Table, column: 'body' | 'times') =>
      this.db.prepare(`SELECT key, ${column} AS value FROM ${table}`).all() as {
        key: string;
        value: string;
      }[];
    const read = <T>(table: Table, column: 'body' | 'times'): [string, T][] =>
      rows(table, column).map(({ key, value }) => {
        this.saved[table].set(key, value);
        return [key, JSON.parse(value) as T];
      });
    return {
      conditions: read<Condition>('detect_conditions', 'body').map(([, c]) => withMessages(c)),
      failures: new Map(read<number[]>('detect_failures', 'times')),
      agents: read<AgentLiveness>('detect_agents', 'body').map(([, a]) => a),
    };
  }

  /** Writes what changed since the last save, in one transaction. */
  save(snapshot: DetectorSnapshot): void {
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
    const changes: [Table, string, string | null][] = [];
    for (const table of Object.keys(next) as Table[]) {
      const before = this.saved[table];
      for (const [key, value] of next[table]) {
        if (before.get(key) !== value) changes.push([table, key, value]);
      }
      for (const key of before.keys()) if (!next[table].has(key)) changes.push([table, key, null]);
    }
    if (changes.length === 0) return;
    this.db.transaction(() => {
      for (const [table, key, value] of changes) {
        if (value === null) this.db.prepare(`DELETE FROM ${table} WHERE key = ?`).run(key);
        else {
          const column = table === 'detect_failures' ? 'times' : 'body';
          this.db
            .prepare(
              `INSERT INTO ${table} (key, ${column}) VALUES (?, ?)
               ON CONFLICT (key) DO UPDATE SET ${column} = excluded.${column}`,
            )
            .run(key, value);
        }
      }
    })();
    for (const [table, key, value] of changes) {
      if (value === null) this.saved[table].delete(key);
      else this.saved[table].set(key, value);
    }
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
