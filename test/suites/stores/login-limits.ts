/**
 * The conformance suite of the login limits (broker/api/login-limits.ts), run on SQLite
 * and on PostgreSQL (test/suites/stores/backends.ts). On a pair both nodes count into the
 * same rows: a lock set through one node refuses on the other, and attempts counted at
 * the same time through two connections add up (none lost, none over the limit).
 */
import { beforeEach, expect, it } from 'vitest';
import { LoginLimits, type LoginAttempt } from '../../../broker/api/login-limits.js';
import type { LoginLimitsConfig } from '../../../broker/config.js';
import type { SqlDatabase, SqlParams, SqlSession } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

const CONFIG: LoginLimitsConfig = {
  failuresPerAccount: 3,
  failuresPerAddress: 5,
  windowMin: 15,
  lockMin: 15,
};
const OLGA = { username: 'olga', exists: true };
const OFFICE = '203.0.113.7';
const ELSEWHERE = '198.51.100.9';

/**
 * `db`, whose transactions begun after `arm()` stop after their first write until `go()`:
 * a login caught between its two counters' rows (begin() counts the name's row, then the
 * address's), the moment where another connection's statements can meet it.
 */
function pausable(db: SqlDatabase) {
  let armed = false;
  let reached = () => {};
  let go = () => {};
  const paused = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (go = resolve));
  const held = (tx: SqlSession): SqlSession => {
    let first = true;
    return {
      dialect: tx.dialect,
      all: <Row>(sql: string, params?: SqlParams) => tx.all<Row>(sql, params),
      get: <Row>(sql: string, params?: SqlParams) => tx.get<Row>(sql, params),
      run: async <Row>(sql: string, params?: SqlParams) => {
        const result = await tx.run<Row>(sql, params);
        if (first) {
          first = false;
          reached();
          await gate;
        }
        return result;
      },
    };
  };
  const wrapped: SqlDatabase = {
    dialect: db.dialect,
    label: db.label,
    all: (sql, params) => db.all(sql, params),
    get: (sql, params) => db.get(sql, params),
    run: (sql, params) => db.run(sql, params),
    migrate: (component, steps) => db.migrate(component, steps),
    close: () => db.close(),
    transaction: (work) => db.transaction((tx) => work(armed ? held(tx) : tx)),
  };
  return {
    db: wrapped,
    arm: () => {
      armed = true;
    },
    paused,
    go: () => go(),
  };
}

export function loginLimitsSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let limits: LoginLimits;
  const clock = { now: new Date('2026-12-07T08:00:00.000Z') };
  const later = (minutes: number) => {
    clock.now = new Date(clock.now.getTime() + minutes * 60_000);
  };

  beforeEach(async () => {
    clock.now = new Date('2026-12-07T08:00:00.000Z');
    db = await backend.open();
    limits = new LoginLimits(db, CONFIG, () => clock.now);
    await limits.start();
  });

  /** One login with a wrong password, as the login route runs it. */
  const wrong = async (on: LoginLimits, account = OLGA, from = OFFICE) => {
    const begun = await on.begin(account, from);
    if ('lock' in begun) return begun;
    return (await on.failed(begun.attempt)) ?? 'counted';
  };

  /**
   * Until `work` is done or another connection of the test's database waits for a row
   * lock (PostgreSQL's pg_stat_activity): the moment to let a paused transaction go on.
   */
  const doneOrBlocked = async (work: Promise<unknown>) => {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    const waiting = async () =>
      Number(
        (
          await db.get<{ n: number }>(
            `SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        )?.n ?? 0,
      );
    for (let i = 0; i < 500 && !settled && (await waiting()) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  const counts = () =>
    db.all('SELECT account_key, address, count FROM login_failures ORDER BY account_key');

  it('locks a name from one address after the limit of wrong passwords, not from elsewhere', async () => {
    expect(await wrong(limits)).toBe('counted');
    expect(await wrong(limits)).toBe('counted');
    const third = await wrong(limits);
    expect(third).toMatchObject({
      created: true,
      lock: { scope: 'account', username: 'olga', address: OFFICE, failures: 3, refused: 0 },
    });
    expect(third !== 'counted' && third.lock.until).toBe('2026-12-07T08:15:00.000Z');
    // Refused before the password is checked, and the refusal counted on the lock.
    expect(await limits.begin(OLGA, OFFICE)).toMatchObject({
      created: false,
      lock: { refused: 1 },
    });
    expect(await limits.begin(OLGA, ELSEWHERE)).toHaveProperty('attempt');
    expect(await limits.active()).toEqual([expect.objectContaining({ refused: 1 })]);
    // The lock ends by itself, and the count starts from zero.
    later(15);
    expect(await limits.active()).toEqual([]);
    expect(await wrong(limits)).toBe('counted');
  });

  it('gives a right password its attempt back, and only its own on the address count', async () => {
    await wrong(limits, { username: 'x', exists: false });
    await wrong(limits);
    const begun = await limits.begin(OLGA, OFFICE);
    expect(begun).toHaveProperty('attempt');
    await limits.succeeded((begun as { attempt: LoginAttempt }).attempt);
    const rows = await counts();
    expect(rows.find((row) => row.account_key === 'olga')).toBeUndefined();
    expect(rows.find((row) => row.account_key === '')).toMatchObject({ count: 2 });
  });

  it('counts a name no user has under its hash, and locks the address across names', async () => {
    for (const name of ['a', 'b', 'c', 'd']) {
      expect(await wrong(limits, { username: name, exists: false })).toBe('counted');
    }
    const keys = (await counts()).map((row) => String(row.account_key));
    expect(keys.filter((key) => key.startsWith('sha256:'))).toHaveLength(4);
    expect(JSON.stringify(keys)).not.toMatch(/"[a-d]"/);
    expect(await wrong(limits, { username: 'e', exists: false })).toMatchObject({
      created: true,
      lock: { scope: 'address', username: null, address: OFFICE, failures: 5 },
    });
    expect(await limits.begin(OLGA, OFFICE)).toMatchObject({
      created: false,
      lock: { scope: 'address' },
    });
    // An IPv6 client is one /64.
    expect(await limits.begin(OLGA, '2001:db8:1:2::1')).toHaveProperty('attempt');
    expect((await counts()).map((row) => row.address)).toContain('2001:db8:1:2::/64');
  });

  it('forgets counts whose window is over', async () => {
    await wrong(limits);
    await wrong(limits);
    later(16);
    expect(await wrong(limits)).toBe('counted');
    expect(await wrong(limits)).toBe('counted');
    expect(await wrong(limits)).toMatchObject({ created: true });
  });

  it('lets an admin lift a lock once; the name logs in again from that address', async () => {
    for (let i = 0; i < 3; i++) await wrong(limits);
    const [lock] = await limits.active();
    expect(await limits.lift(lock!.id, 'ada')).toMatchObject({ id: lock!.id, scope: 'account' });
    expect(await limits.lift(lock!.id, 'ada')).toBeUndefined();
    expect(await limits.lift(9999, 'ada')).toBeUndefined();
    expect(await limits.active()).toEqual([]);
    expect(await limits.begin(OLGA, OFFICE)).toHaveProperty('attempt');
    expect(await db.get('SELECT lifted_by FROM login_locks WHERE id = ?', [lock!.id])).toEqual({
      lifted_by: 'ada',
    });
  });

  it('holds a lock set through one node on the other (a pair shares the locks)', async () => {
    const other = new LoginLimits(await backend.reopen(db), CONFIG, () => clock.now);
    await other.start();
    await wrong(limits);
    await wrong(other);
    expect(await wrong(limits)).toMatchObject({ created: true });
    expect(await other.begin(OLGA, OFFICE)).toMatchObject({ created: false, lock: { refused: 1 } });
    const [lock] = await other.active();
    expect(await other.lift(lock!.id, 'ada')).toBeDefined();
    expect(await limits.begin(OLGA, OFFICE)).toHaveProperty('attempt');
  });

  // Two connections at once exist only on PostgreSQL (see the next test).
  if (backend.dialect === 'postgres') {
    it('forgets old counts while a login holds one of them: neither waits on the other in a circle', async () => {
      later(21);
      // A node whose last cleanup was a moment ago (at 08:21): its next login cleans nothing.
      const gated = pausable(await backend.reopen(db));
      const holder = new LoginLimits(gated.db, CONFIG, () => clock.now);
      expect(await holder.begin(OLGA, ELSEWHERE)).toHaveProperty('attempt');
      // The old counts of one address, over since 08:15 and 08:16: the address's and
      // olga's from 08:00, ada's from 08:01. Written in the order a scan of the table (or
      // of its first_at index) meets them: the address's row before ada's.
      for (const [key, count, first] of [
        ['', 2, '08:00'],
        ['olga', 1, '08:00'],
        ['ada', 1, '08:01'],
      ] as const) {
        const at = `2026-12-07T${first}:00.000Z`;
        await db.run(
          'INSERT INTO login_failures (account_key, address, count, first_at, last_at) VALUES (?, ?, ?, ?, ?)',
          [key, OFFICE, count, at, at],
        );
      }
      // ada's login holds her counter's row and is about to take the address's.
      gated.arm();
      const held = holder.begin({ username: 'ada', exists: true }, OFFICE);
      await gated.paused;
      // Another connection's first login of the minute cleans up the old counts: it must
      // not take the address's row and then wait for ada's.
      const cleaner = new LoginLimits(await backend.reopen(db), CONFIG, () => clock.now);
      const cleaning = cleaner.begin(OLGA, '192.0.2.44');
      await doneOrBlocked(cleaning);
      gated.go();
      // Without the fix PostgreSQL finds the circle after deadlock_timeout (1 s) and
      // fails one of the two: a login answered 500, or the cleanup's login.
      const [a, b] = await Promise.allSettled([held, cleaning]);
      expect(a).toMatchObject({ status: 'fulfilled', value: { attempt: { username: 'ada' } } });
      expect(b).toMatchObject({ status: 'fulfilled', value: { attempt: { username: 'olga' } } });
      // olga's old count is gone; ada's and the address's started again at 08:21.
      expect(
        await db.all(
          'SELECT account_key, count, first_at FROM login_failures WHERE address = ? ORDER BY account_key',
          [OFFICE],
        ),
      ).toEqual([
        { account_key: '', count: 1, first_at: '2026-12-07T08:21:00.000Z' },
        { account_key: 'ada', count: 1, first_at: '2026-12-07T08:21:00.000Z' },
      ]);
    });

    it('lifts a lock while a login it refuses is under way: neither waits on the other in a circle', async () => {
      for (let i = 0; i < 3; i++) await wrong(limits);
      const [lock] = await limits.active();
      // Refused once: her count's row is there again (at 0), as after any refused login.
      expect(await limits.begin(OLGA, OFFICE)).toMatchObject({ created: false });
      // The admin's lift, paused after its first write.
      const gated = pausable(await backend.reopen(db));
      const admin = new LoginLimits(gated.db, CONFIG, () => clock.now);
      gated.arm();
      const lifting = admin.lift(lock!.id, 'ada');
      await gated.paused;
      // olga tries again meanwhile, through another node.
      const other = new LoginLimits(await backend.reopen(db), CONFIG, () => clock.now);
      const trying = other.begin(OLGA, OFFICE);
      await doneOrBlocked(trying);
      gated.go();
      // Without the order PostgreSQL finds the circle after deadlock_timeout (1 s) and
      // fails one of the two: the admin's lift, or olga's login, answered 500.
      const [lifted, tried] = await Promise.allSettled([lifting, trying]);
      expect(lifted).toMatchObject({ status: 'fulfilled', value: { id: lock!.id } });
      expect(tried).toMatchObject({
        status: 'fulfilled',
        value: { attempt: { username: 'olga' } },
      });
      expect(await limits.active()).toEqual([]);
    });
  }

  it('adds up attempts counted at once through two connections: none lost, none past the limit', async () => {
    const roomy = { ...CONFIG, failuresPerAccount: 100, failuresPerAddress: 100 };
    // Two connections on PostgreSQL (the two nodes). SQLite serves one machine through one
    // connection: two in one process cannot interleave transactions (better-sqlite3 is
    // synchronous, so a BEGIN waiting for the other's lock blocks the thread that holds it).
    const second = async () => (backend.dialect === 'postgres' ? backend.reopen(db) : db);
    const one = new LoginLimits(db, roomy, () => clock.now);
    const two = new LoginLimits(await second(), roomy, () => clock.now);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).begin(OLGA, OFFICE)),
    );
    expect(await counts()).toEqual([
      { account_key: '', address: OFFICE, count: 40 },
      { account_key: 'olga', address: OFFICE, count: 40 },
    ]);
    // At the limit, attempts racing through both nodes: exactly the limit gets through.
    const tight = { ...CONFIG, failuresPerAccount: 10, failuresPerAddress: 100 };
    const a = new LoginLimits(db, tight, () => clock.now);
    const b = new LoginLimits(await second(), tight, () => clock.now);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).begin({ username: 'ada', exists: true }, ELSEWHERE),
      ),
    );
    expect(answers.filter((answer) => 'attempt' in answer)).toHaveLength(10);
    const locks = await a.active();
    expect(locks.filter((lock) => lock.username === 'ada')).toHaveLength(1);
    expect(locks[0]).toMatchObject({ failures: 10, refused: 19 });
  });
}
