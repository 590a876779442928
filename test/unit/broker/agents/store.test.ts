import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentAccountError,
  AgentStore,
  checkPassword,
  hashPassword,
} from '../../../../broker/agents/store.js';
import { openDatabase, type Db } from '../../../../broker/db.js';

describe('password hashing', () => {
  it('keeps a salted scrypt hash that matches only the password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$\d+\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('correct horse');
    expect(await checkPassword('correct horse battery staple', hash)).toBe(true);
    expect(await checkPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await checkPassword('', hash)).toBe(false);
  });

  it('salts every hash: the same password never gives the same hash', async () => {
    expect(await hashPassword('same password')).not.toBe(await hashPassword('same password'));
  });

  it('never matches a damaged hash', async () => {
    expect(await checkPassword('x', 'plain-text-password')).toBe(false);
    expect(await checkPassword('x', 'scrypt$16384$8$1$c2FsdA$')).toBe(false);
  });
});

describe('agent accounts', () => {
  let db: Db;
  let agents: AgentStore;

  beforeEach(() => {
    db = openDatabase(':memory:');
    agents = new AgentStore(db);
    agents.start();
  });

  afterEach(() => db.close());

  it('creates <site>.<name> with a random password shown once and stored only as a hash', async () => {
    const added = await agents.add('demo-site', 'gw-01');
    expect(added).toMatchObject({
      username: 'demo-site.gw-01',
      siteId: 'demo-site',
      agentId: 'gw-01',
      replaced: false,
    });
    expect(added.password.length).toBeGreaterThanOrEqual(32);
    const stored = JSON.stringify(db.prepare('SELECT * FROM agent_accounts').all());
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
    expect(agents.status('other-site.gw-01')).toBe('unknown');
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
    expect(agents.revoke('demo-site', 'gw-01')).toBe(true);
    expect(await agents.verify(added.username, added.password)).toBeNull();
    expect(agents.status(added.username)).toBe('revoked');
    expect(agents.generation(added.username)).toBeNull();
    expect(invalidated).toEqual(['demo-site.gw-01']);
    expect(agents.revoke('demo-site', 'gw-01')).toBe(false);
    expect(agents.list()).toEqual([
      expect.objectContaining({ username: 'demo-site.gw-01', revokedAt: expect.any(String) }),
    ]);
  });

  it('replaces the password when the agent is added again, and the old one stops working', async () => {
    const first = await agents.add('demo-site', 'gw-01');
    const generation = agents.generation(first.username);
    const second = await agents.add('demo-site', 'gw-01', 'a chosen password');
    expect(second.replaced).toBe(true);
    expect(second.password).toBe('a chosen password');
    expect(await agents.verify(first.username, first.password)).toBeNull();
    expect(await agents.verify(first.username, 'a chosen password')).not.toBeNull();
    expect(agents.generation(first.username)).not.toBe(generation);
  });

  it('re-adding a revoked agent makes it active again', async () => {
    await agents.add('demo-site', 'gw-01');
    agents.revoke('demo-site', 'gw-01');
    const again = await agents.add('demo-site', 'gw-01');
    expect(await agents.verify(again.username, again.password)).not.toBeNull();
  });

  it('refuses names that cannot be MQTT topic levels, short chosen passwords, and username clashes', async () => {
    await expect(agents.add('site/a', 'gw+1')).rejects.toThrow(AgentAccountError);
    await expect(agents.add('site-a', 'gw-01', 'short')).rejects.toThrow(/at least 12 characters/);
    await agents.add('a.b', 'c');
    await expect(agents.add('a', 'b.c')).rejects.toThrow(/already belongs to site "a.b"/);
  });
});
