/**
 * The ingest journal in PostgreSQL (broker/journal/pg-journal.ts), against a real
 * PostgreSQL 15 (test/helpers/postgres.ts): the conformance suite the file journal
 * passes, each storage its own database with a real lease the journal is fenced by; then
 * what only a shared database has: a second node taking the lease over, after which the
 * first one's appends are refused (no PUBACK) and nothing of them is in the table; the
 * database unreachable; group commit as one INSERT per commit; several commits in flight,
 * finishing out of order, one failing among them, and a crash with one still in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ensureLeaseTable, Lease } from '../../../../broker/ha/lease.js';
import { openDatabase, type Database } from '../../../../broker/ha/pg.js';
import { PgJournal, type JournalFence } from '../../../../broker/journal/pg-journal.js';
import { journalEntry as entry, journalSuite } from '../../../suites/journal.js';
import { eventually } from '../../../helpers/eventually.js';
import { postgresPerFile } from '../../../helpers/postgres-per-file.js';

const pg = postgresPerFile();
let databases = 0;

/** A database of its own (no state shared between tests) and a pool on it. */
async function freshDatabase(): Promise<{ db: Database; url: string }> {
  const name = `journal_${++databases}`;
  await pg.admin.query(`CREATE DATABASE ${name}`);
  const url = pg.server.url.replace(/\/vigil$/, `/${name}`);
  return { db: openDatabase({ url, passwordFile: null }, { max: 4 }), url };
}

/**
 * `db` whose journal INSERTs first pass `hold(n)` (n counts them from 1): a commit kept
 * back, failed, or never sent, on a real database; everything else goes straight through.
 */
function holdingInserts(db: Database, hold: (n: number) => Promise<void> | void): Database {
  let n = 0;
  return {
    label: db.label,
    async query<Row>(sql: string, params?: unknown[]) {
      if (sql.startsWith('INSERT INTO vigil_journal ')) await hold(++n);
      return db.query<Row>(sql, params);
    },
    transaction: (work) => db.transaction(work),
    close: () => db.close(),
  };
}

/** A promise opened by hand. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** The ids in vigil_journal. */
async function storedIds(db: Database): Promise<number[]> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM vigil_journal ORDER BY id');
  return rows.map((row) => Number(row.id));
}

/** A leading node on `db`: its lease started and elected. */
async function leader(db: Database, ttlMs = 10_000): Promise<Lease> {
  await ensureLeaseTable(db);
  const lease = new Lease({ db, ttlMs });
  await lease.start();
  await eventually('the lease elected', () => lease.isLeader);
  return lease;
}

journalSuite('postgres', async () => {
  const { db } = await freshDatabase();
  const lease = await leader(db);
  return {
    make: (options = {}) => new PgJournal({ db, fence: lease, ...options }),
    dispose: async () => {
      await lease.stop();
      await db.close();
    },
  };
});

describe('PostgreSQL journal', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('commits a burst as few multi-row INSERTs, bounded by batchRows', async () => {
    const { db } = await freshDatabase();
    cleanup.push(() => db.close());
    const journal = new PgJournal({ db, batchRows: 100 });
    cleanup.push(() => journal.stop());
    await journal.start();
    const ids = await Promise.all(Array.from({ length: 450 }, (_, n) => journal.append(entry(n))));
    expect(ids).toEqual(Array.from({ length: 450 }, (_, n) => n + 1));
    // 450 rows, at most 100 a statement: 5 commits.
    expect(journal.stats.commits).toBe(5);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM vigil_journal');
    expect(Number(rows[0]!.n)).toBe(450);
  });

  it('refuses the appends of a node whose lease was taken over, in the database too, and keeps nothing of them', async () => {
    const { db: dbA, url } = await freshDatabase();
    const dbB = openDatabase({ url, passwordFile: null }, { max: 4 });
    cleanup.push(
      () => dbA.close(),
      () => dbB.close(),
    );
    const leaseA = await leader(dbA, 2_000);
    cleanup.push(() => leaseA.stop());
    const journalA = new PgJournal({ db: dbA, fence: leaseA });
    await journalA.start();
    cleanup.push(() => journalA.stop());
    // What A acknowledged while it led: the new leader must replay it.
    for (let n = 1; n <= 3; n++) await journalA.append(entry(n));
    const tokenA = leaseA.token!;
    // The same node as a process frozen right before its commit would see itself: still
    // holding token A, its local deadline not checked yet. Only the database can refuse it.
    const frozenA: JournalFence = { name: leaseA.name, token: tokenA };
    const staleA = new PgJournal({ db: dbA, fence: frozenA });
    await staleA.start();
    cleanup.push(() => staleA.stop());

    // A stops renewing (frozen, cut off); B takes the lease once it expired.
    leaseA.halt();
    const leaseB = new Lease({ db: dbB, ttlMs: 2_000 });
    cleanup.push(() => leaseB.stop());
    await leaseB.start();
    await eventually('B elected', () => leaseB.isLeader, 6_000);
    expect(leaseB.token).toBeGreaterThan(tokenA);

    // A knows locally that it lost the lease: refused at once, no PUBACK.
    expect(leaseA.isLeader).toBe(false);
    await expect(journalA.append(entry(4))).rejects.toMatchObject({
      code: 'VIGIL_NOT_LEADER',
      message: expect.stringMatching(/does not lead.*not acknowledged/),
    });
    // A that believes it still leads: the database refuses its INSERT (the fence in it).
    await expect(staleA.append(entry(5))).rejects.toMatchObject({
      code: 'VIGIL_NOT_LEADER',
      message: expect.stringMatching(/database refused the commit/),
    });
    expect(staleA.problem).toMatch(/database refused/);
    // Its checkpoint is refused too: finishing what it had does not move B's checkpoint.
    journalA.finish(1);
    journalA.finish(2);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const { rows } = await dbB.query<{ id: string; topic: string }>(
      'SELECT id, topic FROM vigil_journal ORDER BY id',
    );
    expect(rows.map((row) => row.topic)).toEqual([1, 2, 3].map((n) => entry(n).topic));
    // B, the new leader, replays everything A acknowledged and did not checkpoint.
    const journalB = new PgJournal({ db: dbB, fence: leaseB });
    cleanup.push(() => journalB.stop());
    expect((await journalB.start()).map((record) => record.topic)).toEqual(
      [1, 2, 3].map((n) => entry(n).topic),
    );
    expect(await journalB.append(entry(6))).toBe(4);
  });

  it('refuses appends in a later term until started again, then goes on after the ids of the term between', async () => {
    const { db } = await freshDatabase();
    cleanup.push(() => db.close());
    await ensureLeaseTable(db);
    await db.query(
      "INSERT INTO vigil_leader VALUES ('broker', 'node-a', 1, now() + interval '1 hour')",
    );
    // The node's view of the lease, moved by hand as Lease would move it.
    const view: { name: string; token: number | null } = { name: 'broker', token: 1 };
    const journal = new PgJournal({ db, fence: view });
    cleanup.push(() => journal.stop());
    await journal.start();
    expect(await journal.append(entry(1))).toBe(1);
    // Deposed: refused at once. Meanwhile another node led (token 2) and appended id 2.
    view.token = null;
    await expect(journal.append(entry(2))).rejects.toThrow(/does not lead/);
    await db.query("UPDATE vigil_leader SET token = 2, holder = 'node-b'");
    const other = new PgJournal({ db, fence: { name: 'broker', token: 2 } });
    await other.start();
    expect(await other.append(entry(3))).toBe(2);
    await other.stop();
    // Elected again (token 3): the journal of term 1 refuses until started again.
    await db.query("UPDATE vigil_leader SET token = 3, holder = 'node-a'");
    view.token = 3;
    await expect(journal.append(entry(4))).rejects.toThrow(/lost and won again.*started again/);
    await journal.stop();
    expect((await journal.start()).map((record) => record.id)).toEqual([1, 2]);
    expect(await journal.append(entry(5))).toBe(3);
  });

  it('refuses a publish with a clear error while PostgreSQL is unreachable, and takes them again after', async () => {
    const { db, url } = await freshDatabase();
    cleanup.push(() => db.close());
    const journal = new PgJournal({ db });
    cleanup.push(() => journal.stop());
    await journal.start();
    expect(await journal.append(entry(1))).toBe(1);
    // The database's sessions ended and logins refused, as when it is down.
    const name = url.split('/').at(-1)!;
    await pg.admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await pg.admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    try {
      await expect(journal.append(entry(2))).rejects.toThrow(
        /cannot commit the ingest journal to PostgreSQL \(postgres:\/\/vigil:\*\*\*@.*not acknowledged.*check that PostgreSQL is running/,
      );
      expect(journal.problem).toMatch(/cannot commit/);
      // The password is never in the message.
      expect(journal.problem).not.toContain(pg.server.password);
    } finally {
      await pg.admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    }
    await eventually('an append accepted again', () =>
      journal.append(entry(3)).then(
        () => true,
        () => false,
      ),
    );
    expect(journal.problem).toBeNull();
  });

  describe('several commits in flight', () => {
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => from + i);

    it('acknowledges each commit when it lands, also out of order, and the checkpoint waits for the earlier one', async () => {
      const { db } = await freshDatabase();
      cleanup.push(() => db.close());
      const lease = await leader(db);
      cleanup.push(() => lease.stop());
      const first = gate();
      const secondDone = gate();
      // The first INSERT (ids 1-5) waits until the second (ids 6-10) committed.
      const held = holdingInserts(db, async (n) => {
        if (n === 1) await first.opened;
      });
      const journal = new PgJournal({
        db: held,
        fence: lease,
        commitsInFlight: 2,
        batchRows: 5,
        checkpointIntervalMs: 10,
      });
      cleanup.push(() => journal.stop());
      await journal.start();
      const order: number[] = [];
      const appends = range(1, 10).map((n) =>
        journal.append(entry(n)).then((id) => {
          order.push(id);
          if (id === 10) secondDone.open();
          return id;
        }),
      );
      await secondDone.opened;
      // The second commit acknowledged alone: the first is still in flight.
      expect(order).toEqual(range(6, 10));
      expect(await storedIds(db)).toEqual(range(6, 10));
      // Its messages finished: the checkpoint may not pass ids 1-5, neither acknowledged
      // nor finished, so a crash now would replay 6-10 too (harmless, deduplicated).
      for (const id of range(6, 10)) journal.finish(id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const state = await db.query<{ done: string }>('SELECT done FROM vigil_journal_state');
      expect(Number(state.rows[0]!.done)).toBe(0);
      expect(journal.stats.depth).toBe(10);

      first.open();
      expect(await Promise.all(appends)).toEqual(range(1, 10));
      expect(order).toEqual([...range(6, 10), ...range(1, 5)]);
      expect(journal.stats.commits).toBe(2);
      for (const id of range(1, 5)) journal.finish(id);
      expect(journal.stats.depth).toBe(0);
      await journal.stop();
      const again = new PgJournal({ db, fence: lease });
      cleanup.push(() => again.stop());
      expect(await again.start()).toEqual([]);
      expect(await again.append(entry(11))).toBe(11);
    });

    it('refuses only the messages of a commit that failed, while the one beside it succeeds', async () => {
      const { db } = await freshDatabase();
      cleanup.push(() => db.close());
      const lease = await leader(db);
      cleanup.push(() => lease.stop());
      const secondDone = gate();
      // The first INSERT fails once the second committed: the failure comes last.
      const held = holdingInserts(db, async (n) => {
        if (n !== 1) return;
        await secondDone.opened;
        throw new Error('Connection terminated unexpectedly');
      });
      const journal = new PgJournal({ db: held, fence: lease, commitsInFlight: 2, batchRows: 5 });
      cleanup.push(() => journal.stop());
      await journal.start();
      const outcomes = range(1, 10).map((n) =>
        journal.append(entry(n)).then(
          (id) => {
            if (id === 10) secondDone.open();
            return id;
          },
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        ),
      );
      const results = await Promise.all(outcomes);
      for (const refused of results.slice(0, 5))
        expect(refused).toMatch(
          /cannot commit the ingest journal to PostgreSQL.*Connection terminated.*not acknowledged/,
        );
      expect(results.slice(5)).toEqual(range(6, 10));
      expect(journal.problem).toMatch(/Connection terminated/);
      expect(await storedIds(db)).toEqual(range(6, 10));
      // Never acknowledged, 1-5 count as finished: once 6-10 are, the checkpoint passes all.
      for (const id of range(6, 10)) journal.finish(id);
      expect(journal.stats.depth).toBe(0);
      // The next commit succeeds and clears the problem.
      expect(await journal.append(entry(11))).toBe(11);
      expect(journal.problem).toBeNull();
      journal.finish(11);
      await journal.stop();
      expect(await storedIds(db)).toEqual([]);
      const again = new PgJournal({ db, fence: lease });
      cleanup.push(() => again.stop());
      expect(await again.start()).toEqual([]);
      expect(await again.append(entry(12))).toBe(12);
    });

    it('after a crash with a commit in flight, replays every acknowledged message and skips the ids never stored', async () => {
      const { db, url } = await freshDatabase();
      cleanup.push(() => db.close());
      const lease = await leader(db);
      cleanup.push(() => lease.stop());
      // The crashed node's own pool: its first INSERT is never sent (the process died
      // before it reached the database).
      const crashedDb = openDatabase({ url, passwordFile: null }, { max: 4 });
      const never = new Promise<void>(() => {});
      const crashed = new PgJournal({
        db: holdingInserts(crashedDb, (n) => (n === 1 ? never : undefined)),
        fence: lease,
        commitsInFlight: 3,
        batchRows: 4,
      });
      await crashed.start();
      const acknowledged: number[] = [];
      for (const n of range(1, 12))
        void crashed.append(entry(n)).then((id) => acknowledged.push(id));
      await eventually(
        'the second and third commits acknowledged',
        () => acknowledged.length === 8,
      );
      expect(acknowledged.sort((a, b) => a - b)).toEqual(range(5, 12));
      // The crash: no stop(); only what the database holds counts.
      await crashedDb.close();

      const again = new PgJournal({ db, fence: lease });
      cleanup.push(() => again.stop());
      const replayed = await again.start();
      expect(replayed.map((record) => record.id)).toEqual(range(5, 12));
      expect(replayed[0]).toEqual({ id: 5, ...entry(5) });
      // 1-4 were never stored nor acknowledged: finished; the next id follows the last stored.
      expect(again.stats.depth).toBe(8);
      expect(await again.append(entry(13))).toBe(13);
    });

    it('grows the next group while every commit slot is taken, and sends it as one INSERT when one frees', async () => {
      const { db } = await freshDatabase();
      cleanup.push(() => db.close());
      const first = gate();
      const inserts: number[] = [];
      const held = holdingInserts(db, async (n) => {
        inserts.push(n);
        if (n === 1) await first.opened;
      });
      const journal = new PgJournal({ db: held, commitsInFlight: 1 });
      cleanup.push(() => journal.stop());
      await journal.start();
      const appends = [journal.append(entry(1))];
      await eventually('the first commit sent', () => inserts.length === 1);
      // Three more, each in its own turn of the event loop, while the slot is taken.
      for (const n of [2, 3, 4]) {
        appends.push(journal.append(entry(n)));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(inserts).toEqual([1]);
      first.open();
      expect(await Promise.all(appends)).toEqual([1, 2, 3, 4]);
      expect(inserts).toEqual([1, 2]);
      expect(journal.stats.commits).toBe(2);
    });
  });
});
