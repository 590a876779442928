/**
 * The conformance suite of the agents' MQTT accounts (broker/agents/store.ts), run on
 * SQLite and on PostgreSQL (test/suites/stores/backends.ts): the broker's front door
 * reads them on every CONNECT, the CLI writes them, and a pair's two nodes share them.
 */
import { beforeEach, expect, it } from 'vitest';
import { AgentAccountError, AgentStore } from '../../../broker/agents/store.js';
import type { SqlDatabase } from '../../../broker/sql/types.js';
import type { StoreBackend } from './backends.js';

export function agentStoreSuite(backend: StoreBackend): void {
  let db: SqlDatabase;
  let agents: AgentStore;

  beforeEach(async () => {
    db = await backend.open();
    agents = new AgentStore(db);
    await agents.start();
  });

  it('creates <site>.<name> with a random password shown once and stored only as a hash', async () => {
    const added = await agents.add('demo-site', 'gw-01');
    expect(added).toMatchObject({
      username: 'demo-site.gw-01',
      siteId: 'demo-site',
      agentId: 'gw-01',
      replaced: false,
    });
    expect(added.password.length).toBeGreaterThanOrEqual(32);
    const stored = JSON.stringify(await db.all('SELECT * FROM agent_accounts'));
    expect(stored).not.toContain(added.password);
    expect(await agents.verify('demo-site.gw-01', added.password)).toMatchObject({
      username: 'demo-site.gw-01',
      siteId: 'demo-site',
      agentId: 'gw-01',
    });
  });

  it('refuses a wrong password and an unknown username alike', async () => {
    const added = await agents.add('demo-site', 'gw-01');
    expect(await agents.verify('demo-site.gw-01', `${added.password}x`)).toBeNull();
    expect(await agents.verify('other-site.gw-01', added.password)).toBeNull();
    expect(await agents.status('other-site.gw-01')).toBe('unknown');
  });

  it('names agents gw-01, gw-02 ... when no name is given', async () => {
    expect((await agents.add('site-a')).agentId).toBe('gw-01');
    expect((await agents.add('site-a')).agentId).toBe('gw-02');
    expect((await agents.add('site-b')).agentId).toBe('gw-01');
  });

  it('revokes: the right password no longer opens, and the account says why', async () => {
    const added = await agents.add('demo-site', 'gw-01');
    const invalidated: string[] = [];
    agents.on('invalidated', (username) => invalidated.push(username));
    expect(await agents.revoke('demo-site', 'gw-01')).toBe(true);
    expect(await agents.verify(added.username, added.password)).toBeNull();
    expect(await agents.status(added.username)).toBe('revoked');
    expect(await agents.generation(added.username)).toBeNull();
    expect(invalidated).toEqual(['demo-site.gw-01']);
    expect(await agents.revoke('demo-site', 'gw-01')).toBe(false);
    expect(await agents.list()).toEqual([
      expect.objectContaining({ username: 'demo-site.gw-01', revokedAt: expect.any(String) }),
    ]);
  });

  it('replaces the password when the agent is added again, and the old one stops working', async () => {
    const first = await agents.add('demo-site', 'gw-01');
    const generation = await agents.generation(first.username);
    const second = await agents.add('demo-site', 'gw-01', 'a chosen password');
    expect(second.replaced).toBe(true);
    expect(second.password).toBe('a chosen password');
    expect(await agents.verify(first.username, first.password)).toBeNull();
    expect(await agents.verify(first.username, 'a chosen password')).not.toBeNull();
    expect(await agents.generation(first.username)).not.toBe(generation);
  });

  it('re-adding a revoked agent makes it active again', async () => {
    await agents.add('demo-site', 'gw-01');
    await agents.revoke('demo-site', 'gw-01');
    const again = await agents.add('demo-site', 'gw-01');
    expect(await agents.verify(again.username, again.password)).not.toBeNull();
  });

  it('refuses names that cannot be MQTT topic levels, short chosen passwords, and username clashes', async () => {
    await expect(agents.add('site/a', 'gw+1')).rejects.toThrow(AgentAccountError);
    await expect(agents.add('site-a', 'gw-01', 'short')).rejects.toThrow(/at least 12 characters/);
    await agents.add('a.b', 'c');
    await expect(agents.add('a', 'b.c')).rejects.toThrow(/already belongs to site "a.b"/);
  });

  it('keeps the accounts across a restart and tells another connection (the CLI, the other node) at once', async () => {
    const added = await agents.add('demo-site', 'gw-01');
    const other = new AgentStore(await backend.reopen(db));
    await other.start();
    expect(await other.verify(added.username, added.password)).toMatchObject({ agentId: 'gw-01' });
    const before = await agents.generations();
    expect(await other.revoke('demo-site', 'gw-01')).toBe(true);
    expect(await agents.verify(added.username, added.password)).toBeNull();
    expect(before.get(added.username)).toBe(1);
    expect((await agents.generations()).has(added.username)).toBe(false);
  });

  it('gives every active account its generation in one read, as numbers', async () => {
    const one = await agents.add('site-a', 'gw-01');
    const two = await agents.addClient('console', 'noc-wall');
    await agents.add('site-a', 'gw-01');
    expect(await agents.generations()).toEqual(
      new Map([
        [one.username, 2],
        [two.username, 1],
      ]),
    );
  });
}
