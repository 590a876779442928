/**
 * broker/sql, the engine every store writes to, on SQLite and on a real PostgreSQL: the
 * portable SQL of broker/sql/types.ts gives the same answers on both, transactions are
 * all or nothing and never swallow a statement from outside, migrations run once, and on
 * a pair a write without the leader's token is refused by the database.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, expect, it } from 'vitest';
import { NotLeaderWriteError, type SqlDatabase } from '../../../../broker/sql/types.js';
import { storeBackends } from '../../../suites/stores/backends.js';

const SCHEMA = [
  {
    version: 1,
    sqlite:
      'CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, n INTEGER NOT NULL)',
    postgres:
      'CREATE TABLE items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL)',
  },
  { version: 2, sql: 'CREATE UNIQUE INDEX items_name ON items (name)' },
];

storeBackends('the SQL adapter', (backend) => {
  let db: SqlDatabase;
  beforeEach(async () => {
    db = await backend.open();
    await db.migrate('test-items', SCHEMA);
  });

  it('takes ? and @name parameters, leaves a ? inside a literal alone, and gives ids by RETURNING', async () => {
    const first = await db.run<{ id: number }>(
      'INSERT INTO items (name, n) VALUES (?, ?) RETURNING id',
      ['one?', 1],
    );
    const second = await db.run<{ id: number }>(
      'INSERT INTO items (name, n) VALUES (@name, @n) RETURNING id',
      { name: 'two', n: 2 },
    );
    expect(first).toEqual({ changes: 1, rows: [{ id: 1 }] });
    expect(second.rows).toEqual([{ id: 2 }]);
    expect(
      await db.all("SELECT name FROM items WHERE name = 'one?' OR n = @n OR n = @n ORDER BY id", {
        n: 2,
      }),
    ).toEqual([{ name: 'one?' }, { name: 'two' }]);
    await expect(db.get('SELECT n FROM items WHERE name = ?', [])).rejects.toThrow();
  });

  it('gives counts, sums and bigints as numbers on both engines, and booleans as 0/1', async () => {
    await db.run('INSERT INTO items (name, n) VALUES (?, ?)', ['a', 2 ** 40]);
    await db.run('INSERT INTO items (name, n) VALUES (?, ?)', ['b', true]);
    expect(
      await db.get('SELECT count(*) AS count, sum(n) AS total, max(n) AS biggest FROM items'),
    ).toEqual({ count: 2, total: 2 ** 40 + 1, biggest: 2 ** 40 });
    const updated = await db.run('UPDATE items SET n = n + 1');
    expect(updated).toEqual({ changes: 2, rows: [] });
  });

  it('rolls a failed transaction back whole, and a statement from outside it is neither held in it nor rolled back with it', async () => {
    let outside: Promise<unknown> | undefined;
    const failed = db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (name, n) VALUES (?, ?)', ['inside', 1]);
      // Another caller writes while this transaction is open and waiting on real I/O.
      outside = db.run('INSERT INTO items (name, n) VALUES (?, ?)', ['outside', 3]);
      await sleep(50);
      await tx.run('INSERT INTO items (name, n) VALUES (?, ?)', ['inside-2', 2]);
      throw new Error('the work failed');
    });
    await expect(failed).rejects.toThrow('the work failed');
    await outside;
    expect(outside).toBeDefined();
    expect(await db.all('SELECT name FROM items ORDER BY name')).toEqual([{ name: 'outside' }]);
  });

  it('runs transactions started together one after the other, each whole', async () => {
    await db.run('INSERT INTO items (name, n) VALUES (?, ?)', ['counter', 0]);
    await Promise.all(
      Array.from({ length: 5 }, (_, k) =>
        db.transaction(async (tx) => {
          await tx.run('UPDATE items SET n = n + 1 WHERE name = ?', ['counter']);
          await sleep(5);
          await tx.run('INSERT INTO items (name, n) VALUES (?, ?)', [`t${k}`, k]);
        }),
      ),
    );
    expect(await db.get('SELECT n FROM items WHERE name = ?', ['counter'])).toEqual({ n: 5 });
    expect(await db.get('SELECT count(*) AS count FROM items')).toEqual({ count: 6 });
  });

  it('applies each migration step once, also from a second connection (a restart, the other node)', async () => {
    const again = await backend.reopen(db);
    // CREATE TABLE without IF NOT EXISTS: a second run would fail.
    await again.migrate('test-items', SCHEMA);
    await again.migrate('test-items', [
      ...SCHEMA,
      { version: 3, sql: 'ALTER TABLE items ADD COLUMN note TEXT' },
    ]);
    await db.run('INSERT INTO items (name, n, note) VALUES (?, ?, ?)', ['x', 1, 'kept']);
    expect(await again.get('SELECT note FROM items')).toEqual({ note: 'kept' });
    await expect(db.run('INSERT INTO items (name, n) VALUES (?, ?)', ['x', 2])).rejects.toThrow();
  });

  if (backend.dialect === 'postgres') {
    it('on a pair, refuses every write once the lease is not this node’s, and keeps nothing of it', async () => {
      await db.run(
        'CREATE TABLE vigil_leader (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)',
      );
      await db.run(
        "INSERT INTO vigil_leader VALUES ('broker', 'node-a', 7, now() + interval '1 hour')",
      );
      const fence = { name: 'broker', token: 7 as number | null };
      const leader = await backend.reopen(db, { fence });
      await leader.run('INSERT INTO items (name, n) VALUES (?, ?)', ['while-leading', 1]);
      await leader.transaction((tx) =>
        tx.run('INSERT INTO items (name, n) VALUES (?, ?)', ['tx-while-leading', 2]),
      );

      // Another node took the lease over: the database has token 8 now.
      await db.run("UPDATE vigil_leader SET token = 8, holder = 'node-b'");
      await expect(
        leader.run('INSERT INTO items (name, n) VALUES (?, ?)', ['behind', 3]),
      ).rejects.toThrow(NotLeaderWriteError);
      await expect(
        leader.transaction((tx) =>
          tx.run('INSERT INTO items (name, n) VALUES (?, ?)', ['behind-tx', 4]),
        ),
      ).rejects.toThrow(/does not lead/);
      // This node noticed it lost the lease: refused before the database is asked.
      fence.token = null;
      await expect(
        leader.run('INSERT INTO items (name, n) VALUES (?, ?)', ['after', 5]),
      ).rejects.toThrow(NotLeaderWriteError);
      // Reads go on (the standby's health, the API's error page).
      expect(await leader.all('SELECT name FROM items ORDER BY name')).toEqual([
        { name: 'tx-while-leading' },
        { name: 'while-leading' },
      ]);
    });
  }
});
