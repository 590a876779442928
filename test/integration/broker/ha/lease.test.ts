/**
 * Leadership by a lease row, against a real PostgreSQL 15 (test/helpers/postgres.ts):
 * two nodes, each its own Lease, pool and database role, as two broker processes would
 * be. What an operator would notice is asserted: who leads, the tokens, a write refused.
 * A short ttl (2 s: renewals every 666 ms, a leader deposes itself 200 ms before the row
 * expires) keeps the file quick; the bounds allow a busy 2-core machine some slack.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ensureLeaseTable,
  fencedWrite,
  Lease,
  LeaseLostError,
  type DeposedReason,
} from '../../../../broker/ha/lease.js';
import { maskDatabaseUrl, openDatabase, type Database } from '../../../../broker/ha/pg.js';
import { eventually } from '../../../helpers/eventually.js';
import { startPostgres, type RunningPostgres } from '../../../helpers/postgres.js';
import { tempDir, type TempDir } from '../../../helpers/temp.js';

const TTL_MS = 2_000;
/** Scheduling slack on a loaded 2-core machine, on top of the protocol's own bound. */
const SLACK_MS = 500;

interface Node {
  lease: Lease;
  db: Database;
  events: { at: number; what: string }[];
}

let server: RunningPostgres;
let admin: Database;
let dir: TempDir;
const open: Node[] = [];

beforeAll(async () => {
  server = await startPostgres();
  dir = await tempDir('vigil-ha-');
  admin = openDatabase({ url: server.url, passwordFile: null }, { max: 2 });
  await ensureLeaseTable(admin);
  await admin.query(
    'CREATE TABLE tickets_written (id SERIAL PRIMARY KEY, by_token BIGINT, note TEXT)',
  );
  for (const role of ['node_a', 'node_b']) {
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${server.password}'`);
    // CREATE: start() runs CREATE TABLE IF NOT EXISTS, which checks the right even when
    // the table exists (the broker's role owns its schema in production).
    await admin.query(`GRANT CREATE ON SCHEMA public TO ${role}`);
    await admin.query(`GRANT ALL ON vigil_leader, tickets_written TO ${role}`);
    await admin.query(`GRANT ALL ON SEQUENCE tickets_written_id_seq TO ${role}`);
  }
});

afterEach(async () => {
  for (const node of open.splice(0)) {
    await node.lease.stop();
    await node.db.close();
  }
  await admin.query('ALTER ROLE node_a LOGIN; ALTER ROLE node_b LOGIN');
});

afterAll(async () => {
  await admin?.close();
  await dir?.remove();
  await server?.stop();
});

/** A broker node: its own role (so it can be cut off alone), pool and lease. */
function node(role: 'node_a' | 'node_b', name: string): Node {
  const url = server.url.replace('//vigil:', `//${role}:`);
  const events: Node['events'] = [];
  const db = openDatabase(
    { url, passwordFile: null },
    {
      max: 2,
      applicationName: role,
      queryTimeoutMs: Math.floor(TTL_MS / 3),
      connectTimeoutMs: 1_000,
    },
  );
  const lease = new Lease({
    db,
    name,
    holder: role,
    ttlMs: TTL_MS,
    onElected: (token) => events.push({ at: performance.now(), what: `elected ${token}` }),
    onDeposed: (reason: DeposedReason) =>
      events.push({ at: performance.now(), what: `deposed ${reason}` }),
    onError: () => undefined,
  });
  const made = { lease, db, events };
  open.push(made);
  return made;
}

function when(n: Node, what: string): number {
  const found = n.events.find((e) => e.what.startsWith(what));
  if (!found) throw new Error(`no "${what}" in ${JSON.stringify(n.events)}`);
  return found.at;
}

/** node_a starts first, so it leads; node_b stands by. */
async function pair(name: string): Promise<[Node, Node]> {
  const a = node('node_a', name);
  const b = node('node_b', name);
  await a.lease.start();
  await b.lease.start();
  return [a, b];
}

async function leaseRow(name: string): Promise<{ holder: string; token: number }> {
  const { rows } = await admin.query<{ holder: string; token: string }>(
    'SELECT holder, token FROM vigil_leader WHERE name = $1',
    [name],
  );
  const row = rows[0];
  if (!row) throw new Error(`no lease row ${name}`);
  return { holder: row.holder, token: Number(row.token) };
}

describe('lease: one leader, a standby that takes over', () => {
  it('one node leads and the other stands by; a stopped leader hands over at once with a higher token', async () => {
    const [a, b] = await pair('stop');
    expect(a.lease.isLeader).toBe(true);
    expect(b.lease.isLeader).toBe(false);
    expect(b.lease.token).toBeNull();
    const first = a.lease.token;
    expect(first).toBe(1);
    expect(await leaseRow('stop')).toEqual({ holder: 'node_a', token: 1 });

    // Renewals keep the token: the standby stays a standby over several periods.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + a.lease.renewMs));
    expect(a.lease.token).toBe(first);
    expect(b.lease.isLeader).toBe(false);

    const stoppedAt = performance.now();
    await a.lease.stop();
    expect(a.lease.isLeader).toBe(false);
    await eventually('node_b to lead', () => b.lease.isLeader, TTL_MS * 3);
    // Released, not expired: the standby's next claim (within one period) wins.
    expect(when(b, 'elected') - stoppedAt).toBeLessThan(b.lease.renewMs + SLACK_MS);
    expect(b.lease.token).toBe(2);
    expect(a.events.map((e) => e.what)).toEqual(['elected 1', 'deposed stopped']);
    expect(await leaseRow('stop')).toEqual({ holder: 'node_b', token: 2 });
  });

  it('a frozen leader deposes itself before the standby is elected, and its fenced writes are refused', async () => {
    const [a, b] = await pair('freeze');
    const oldToken = a.lease.token;
    expect(oldToken).not.toBeNull();
    // The leader writes while it leads.
    await fencedWrite(a.db, 'freeze', oldToken ?? 0, (tx) =>
      tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
        oldToken,
        'a leads',
      ]),
    );

    // Frozen: no renewal, no release (a SIGSTOPped process whose session lives on).
    const frozenAt = performance.now();
    a.lease.halt();
    await eventually('node_b to take over', () => b.lease.isLeader, TTL_MS * 4);
    const deposedAt = when(a, 'deposed expired');
    const electedAt = when(b, 'elected');
    expect(deposedAt).toBeLessThan(electedAt);
    expect(electedAt - frozenAt).toBeLessThan(TTL_MS + b.lease.renewMs + SLACK_MS);
    expect(a.lease.isLeader).toBe(false);
    const newToken = b.lease.token ?? 0;
    expect(newToken).toBeGreaterThan(oldToken ?? 0);

    // The old leader, still believing its token, cannot write behind the new one.
    const refused = fencedWrite(a.db, 'freeze', oldToken ?? 0, (tx) =>
      tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
        oldToken,
        'a frozen',
      ]),
    );
    await expect(refused).rejects.toBeInstanceOf(LeaseLostError);
    await expect(refused).rejects.toThrow(
      `token ${oldToken} is no longer the leader's (now ${newToken})`,
    );
    await fencedWrite(b.db, 'freeze', newToken, (tx) =>
      tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
        newToken,
        'b leads',
      ]),
    );
    const { rows } = await admin.query<{ note: string }>(
      'SELECT note FROM tickets_written ORDER BY id',
    );
    expect(rows.map((r) => r.note)).toEqual(['a leads', 'b leads']);
  });

  it('a leader frozen inside a fenced write holds the takeover back by at most the ttl, and its write is rolled back', async () => {
    const [a, b] = await pair('stuck');
    const token = a.lease.token ?? 0;
    let thaw = () => undefined as void;
    const thawed = new Promise<void>((resolve) => {
      thaw = resolve;
    });
    // Frozen after its first statement, with the lease row locked FOR SHARE.
    const stuck = fencedWrite(
      a.db,
      'stuck',
      token,
      async (tx) => {
        await tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
          token,
          'a stuck',
        ]);
        await thawed;
        await tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
          token,
          'a thawed',
        ]);
      },
      TTL_MS,
    );
    const frozenAt = performance.now();
    a.lease.halt();

    // The server ends the idle transaction after TTL_MS, then the row can expire and move.
    await eventually('node_b to take over', () => b.lease.isLeader, TTL_MS * 5);
    expect(when(a, 'deposed expired')).toBeLessThan(when(b, 'elected'));
    expect(when(b, 'elected') - frozenAt).toBeLessThan(TTL_MS * 2 + b.lease.renewMs + SLACK_MS);
    expect(b.lease.token).toBeGreaterThan(token);

    thaw();
    await expect(stuck).rejects.toThrow();
    const { rows } = await admin.query<{ note: string }>(
      "SELECT note FROM tickets_written WHERE note LIKE 'a %'",
    );
    expect(rows.map((r) => r.note)).not.toContain('a stuck');
    expect(rows.map((r) => r.note)).not.toContain('a thawed');
  });

  it("a standby's claims never wait behind the leader's open write", async () => {
    const [a, b] = await pair('busy');
    const token = a.lease.token ?? 0;
    const waits: number[] = [];
    await fencedWrite(
      a.db,
      'busy',
      token,
      async (tx) => {
        await tx.query('INSERT INTO tickets_written (by_token, note) VALUES ($1, $2)', [
          token,
          'a busy',
        ]);
        // Two standby claims fall inside this transaction, which holds the row FOR SHARE.
        const until = performance.now() + b.lease.renewMs * 2 + 100;
        while (performance.now() < until) {
          const { rows } = await admin.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'node_b' AND wait_event_type = 'Lock'",
          );
          waits.push(Number(rows[0]?.n ?? 0));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      TTL_MS,
    );
    expect(waits.length).toBeGreaterThan(10);
    expect(Math.max(...waits)).toBe(0);
    expect(a.lease.token).toBe(token);
    expect(b.lease.isLeader).toBe(false);
  });

  it('a leader cut off from the database deposes itself before its lease runs out; back, it stands by', async () => {
    const [a, b] = await pair('cut');
    expect(a.lease.isLeader).toBe(true);
    const oldToken = a.lease.token ?? 0;

    // Cut off: its sessions are ended and it may not log in again (a firewall would do
    // the same; NOLOGIN makes it certain the pool cannot simply reconnect).
    const cutAt = performance.now();
    await admin.query('ALTER ROLE node_a NOLOGIN');
    const { rows } = await admin.query<{ ended: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE usename = 'node_a'",
    );
    expect(rows.length).toBeGreaterThan(0);

    await eventually('node_a to depose itself', () => !a.lease.isLeader, TTL_MS * 2);
    await eventually('node_b to lead', () => b.lease.isLeader, TTL_MS * 4);
    expect(when(a, 'deposed expired')).toBeLessThan(when(b, 'elected'));
    expect(when(a, 'deposed expired') - cutAt).toBeLessThan(TTL_MS);
    expect(b.lease.token).toBeGreaterThan(oldToken);

    // Back on the network, it finds the lease taken and stays a standby.
    await admin.query('ALTER ROLE node_a LOGIN');
    await new Promise((resolve) => setTimeout(resolve, a.lease.renewMs * 2 + SLACK_MS));
    expect(a.lease.isLeader).toBe(false);
    expect(b.lease.isLeader).toBe(true);
    expect(await leaseRow('cut')).toMatchObject({ holder: 'node_b' });
  });

  it('a node that could not reach the database at start leads when started again once it can', async () => {
    const a = node('node_a', 'late');
    await admin.query('ALTER ROLE node_a NOLOGIN');
    await expect(a.lease.start()).rejects.toThrow(/not permitted to log in/);
    expect(a.lease.isLeader).toBe(false);
    // Leadership.start() tries again every ttl/3 until the database answers.
    await admin.query('ALTER ROLE node_a LOGIN');
    await a.lease.start();
    expect(a.lease.isLeader).toBe(true);
    expect(await leaseRow('late')).toMatchObject({ holder: 'node_a' });
  });

  it('a leader whose session is only terminated reconnects and keeps its lease and token', async () => {
    const [a, b] = await pair('blip');
    const token = a.lease.token;
    await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'node_a'",
    );
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + SLACK_MS));
    expect(a.lease.isLeader).toBe(true);
    expect(a.lease.token).toBe(token);
    expect(a.events.map((e) => e.what)).toEqual([`elected ${token}`]);
    expect(b.lease.isLeader).toBe(false);
  });
});

describe('the PostgreSQL test helper', () => {
  it('fails, saying what to install, when PostgreSQL is missing', async () => {
    vi.stubEnv('VIGIL_PG_BIN', join(dir.path, 'no-postgresql-here'));
    vi.resetModules();
    try {
      const helper = await import('../../../helpers/postgres.js');
      await expect(helper.startPostgres()).rejects.toThrow('install the Debian package postgresql');
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});

describe('database connection settings', () => {
  it('takes the password from database.passwordFile and never shows it', async () => {
    const file = join(dir.path, 'db-password');
    await writeFile(file, `${server.password}\n`, { mode: 0o600 });
    const db = openDatabase({ url: server.urlWithoutPassword, passwordFile: file }, { max: 1 });
    try {
      const { rows } = await db.query<{ one: number }>('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
      expect(db.label).toBe(server.urlWithoutPassword);
    } finally {
      await db.close();
    }
    expect(maskDatabaseUrl(server.url)).not.toContain(server.password);
    expect(maskDatabaseUrl(server.url)).toContain('vigil:***@127.0.0.1');
  });
});
