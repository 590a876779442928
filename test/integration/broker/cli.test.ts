/**
 * `vigil broker add-agent / revoke-agent / list-agents` in-process, on a real SQLite file:
 * what an installer types and reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentStore } from '../../../broker/agents/store.js';
import { openSqlite } from '../../../broker/sql/sqlite.js';
import { main } from '../../../broker/main.js';

describe('vigil broker account commands', () => {
  let dir: string;
  let out: string[];
  let err: string[];

  async function vigil(...argv: string[]): Promise<number> {
    process.exitCode = undefined;
    await main(argv);
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  }

  async function verify(username: string, password: string): Promise<boolean> {
    const db = openSqlite(join(dir, 'vigil.db'));
    try {
      const agents = new AgentStore(db);
      await agents.start();
      return (await agents.verify(username, password)) !== null;
    } finally {
      await db.close();
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-cli-'));
    out = [];
    err = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await rm(dir, { recursive: true, force: true });
  });

  it('add-agent prints the credentials once, ready for the agent config, and they work', async () => {
    expect(await vigil('add-agent', '--site', 'demo-site', '--data-dir', dir)).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('Created agent gw-01 of site demo-site.');
    expect(text).toContain('username: demo-site.gw-01');
    const password = /password: (\S+)/.exec(text)?.[1];
    expect(password).toBeDefined();
    expect(await verify('demo-site.gw-01', password!)).toBe(true);
  });

  it('add-agent --password-env takes the password from the environment and never prints it', async () => {
    process.env.VIGIL_TEST_AGENT_PASSWORD = 'from-the-environment-123';
    try {
      expect(
        await vigil(
          'add-agent',
          '--site',
          'demo-site',
          '--name',
          'gw-07',
          '--password-env',
          'VIGIL_TEST_AGENT_PASSWORD',
          '--data-dir',
          dir,
        ),
      ).toBe(0);
    } finally {
      delete process.env.VIGIL_TEST_AGENT_PASSWORD;
    }
    expect(out.join('\n')).not.toContain('from-the-environment-123');
    expect(out.join('\n')).toContain('<the value of VIGIL_TEST_AGENT_PASSWORD>');
    expect(await verify('demo-site.gw-07', 'from-the-environment-123')).toBe(true);
  });

  it('finds the data folder through --config', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'broker.yaml'), 'dataDir: ./state\n');
    expect(
      await vigil(
        'add-agent',
        '--site',
        's1',
        '--name',
        'gw-01',
        '--config',
        join(dir, 'broker.yaml'),
      ),
    ).toBe(0);
    expect(await vigil('list-agents', '--data-dir', join(dir, 'state'))).toBe(0);
    expect(out.at(-1)).toMatch(/^s1\.gw-01\tsite s1\tagent gw-01\tactive/);
  });

  it('revoke-agent refuses the agent from then on, and says so when there is nothing to revoke', async () => {
    await vigil('add-agent', '--site', 'demo-site', '--name', 'gw-01', '--data-dir', dir);
    const password = /password: (\S+)/.exec(out.join('\n'))?.[1] ?? '';
    expect(
      await vigil('revoke-agent', '--site', 'demo-site', '--name', 'gw-01', '--data-dir', dir),
    ).toBe(0);
    expect(out.at(-1)).toMatch(/^Revoked agent gw-01 of site demo-site/);
    expect(await verify('demo-site.gw-01', password)).toBe(false);
    expect(
      await vigil('revoke-agent', '--site', 'demo-site', '--name', 'gw-01', '--data-dir', dir),
    ).toBe(1);
    expect(err.at(-1)).toMatch(/There is no active agent gw-01 of site demo-site/);
  });

  it('explains a missing option with the usage, exit code 2', async () => {
    expect(await vigil('add-agent', '--data-dir', dir)).toBe(2);
    expect(err.at(-1)).toMatch(/--site is required[\s\S]*usage:/);
    expect(await vigil('revoke-agent', '--site', 'x', '--bogus')).toBe(2);
  });
});
