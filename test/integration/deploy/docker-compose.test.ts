import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dockerCompose, skipReason, titled } from '../../helpers/requires.js';

// No Docker engine runs here; Debian's docker-compose still parses and interpolates the
// file, which catches what users would meet first: a broken file or a missing secret.
const noCompose = skipReason(dockerCompose);

describe.skipIf(noCompose)(titled('docker-compose.yml', noCompose), () => {
  const run = (env: Record<string, string>) =>
    spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', ...env },
    });

  it('is valid and wires InfluxDB, the broker and a watched site', () => {
    const result = run({ VIGIL_ADMIN_PASSWORD: 'a-secret', VIGIL_AGENT_PASSWORD: 'b-secret' });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    const services = execFileSync(
      'docker-compose',
      ['-f', 'docker-compose.yml', 'config', '--services'],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', VIGIL_ADMIN_PASSWORD: 'a', VIGIL_AGENT_PASSWORD: 'b' },
      },
    );
    expect(services.split('\n').filter(Boolean).sort()).toEqual(['broker', 'influxdb', 'site']);
  });

  it('refuses to start without the secrets and says which one is missing', () => {
    const result = run({ VIGIL_AGENT_PASSWORD: 'b-secret' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set VIGIL_ADMIN_PASSWORD in .env');
  });
});
