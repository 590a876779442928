/**
 * `vigil demo` with VIGIL_DATABASE_URL (issue 17 part 1: "which `vigil demo` honours
 * too"): the whole demo, as `npm start` runs it, on a real PostgreSQL 15. The demo's
 * agent account is made where the broker reads it (PostgreSQL, not vigil.db), so the
 * simulated site's agent logs in and its devices reach the API; the node leads alone.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../broker/ha/pg.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

let postgres: RunningPostgres;
let demo: RunningDemo | undefined;
let db: Database;

beforeAll(async () => {
  postgres = await startPostgres();
  db = openDatabase({ url: postgres.url, passwordFile: null }, { max: 2 });
}, 90_000);

afterAll(async () => {
  await demo?.stop();
  await db?.close();
  await postgres?.stop();
});

it('runs on PostgreSQL: the agent logs in with the account kept there, and its devices arrive', async () => {
  demo = await startDemo({ VIGIL_DATABASE_URL: postgres.url });
  const { rows } = await db.query<{ username: string }>('SELECT username FROM agent_accounts');
  expect(rows.map((row) => row.username)).toEqual(['demo-site.gw-01']);
  await eventually(
    'the demo site’s devices in the API',
    async () => (await demo!.api<unknown[]>('/api/devices')).length >= 20,
    60_000,
  );
  const leader = await fetch(`${demo.apiUrl}/api/health/leader`);
  expect(leader.status).toBe(200);
  // Its journal commits in PostgreSQL too (journal.store defaults to postgres there).
  const journal = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM vigil_journal');
  expect(journal.rows[0]!.n).toBeGreaterThanOrEqual(0);
  // And nothing of the accounts went to the data folder's vigil.db.
  expect(demo.output()).not.toMatch(/no such account|wrong password/);
}, 180_000);
