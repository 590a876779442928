import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../../agent/log.js';
import { main, type MainIo } from '../../../agent/main.js';
import { VigilError } from '../../../shared/errors.js';

function io(): MainIo & { printed: string[]; errors: string[] } {
  const printed: string[] = [];
  const errors: string[] = [];
  return {
    log: new MemoryLogger(),
    signals: { on: () => undefined },
    exit: () => undefined,
    print: (t) => printed.push(t),
    printError: (t) => errors.push(t),
    printed,
    errors,
  };
}

describe('vigil agent command line', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('prints its usage with --help', async () => {
    const out = io();
    await main(['--help'], out);
    expect(out.printed.join('\n')).toContain('usage: vigil agent --config FILE');
    expect(process.exitCode).toBeUndefined();
  });

  it('asks for --config and exits 2 without it', async () => {
    const out = io();
    await main([], out);
    expect(out.errors.join('\n')).toContain('--config FILE is required');
    expect(process.exitCode).toBe(2);
  });

  it('refuses an unknown option with exit code 2', async () => {
    const out = io();
    await main(['--confg', 'x.yaml'], out);
    expect(out.errors.join('\n')).toMatch(/Unknown option '--confg'/);
    expect(process.exitCode).toBe(2);
  });

  it('fails with every configuration error before starting anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-agent-main-'));
    try {
      const path = join(dir, 'agent.yaml');
      await writeFile(path, 'siteId: a\nagentId: b\ndevices: []\n');
      const out = io();
      const error = await main(['--config', path], out).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VigilError);
      expect((error as VigilError).code).toBe('VIGIL_CONFIG_INVALID');
      expect((error as VigilError).details).toEqual([
        '(root): must have required properties mqtt, onvif',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
