/**
 * The HA deployment in deploy/ (docs/HA.md, "The deployment"), checked by the tools that
 * run it, without a Docker engine: docker-compose parses and interpolates compose.yaml,
 * Debian's HAProxy checks haproxy.cfg (`haproxy -c`), and the broker's own config loader
 * reads deploy/broker.yaml. .ci/run installs docker-compose and haproxy; elsewhere a
 * missing one skips its part with the reason in the title.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../../broker/config.js';
import { dockerCompose, skipReason, titled, type Requirement } from '../../helpers/requires.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const deploy = join(root, 'deploy');

const haproxy: Requirement = {
  problem: () =>
    spawnSync('haproxy', ['-v']).status === 0
      ? null
      : 'haproxy not found on PATH: install the Debian package haproxy (.ci/run does)',
};

const noCompose = skipReason(dockerCompose);
const noHaproxy = skipReason(haproxy);

const secrets = { VIGIL_ADMIN_PASSWORD: 'a-secret', GRAFANA_ADMIN_PASSWORD: 'b-secret' };

function compose(args: string[], env: Record<string, string>) {
  return spawnSync('docker-compose', ['-f', join(deploy, 'compose.yaml'), ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe.skipIf(noCompose)(titled('deploy/compose.yaml', noCompose), () => {
  it('is valid and runs PostgreSQL, two broker nodes, HAProxy, InfluxDB and Grafana', () => {
    const result = compose(['config'], secrets);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    const resolved = parse(result.stdout) as {
      services: Record<
        string,
        {
          volumes?: string[];
          secrets?: ({ source: string } | string)[];
          environment?: Record<string, string>;
          depends_on?: Record<string, unknown>;
          command?: string[];
        }
      >;
    };
    const services = resolved.services;
    expect(Object.keys(services).sort()).toEqual([
      'broker-1',
      'broker-2',
      'grafana',
      'haproxy',
      'influxdb',
      'postgres',
    ]);
    for (const node of ['broker-1', 'broker-2']) {
      const broker = services[node]!;
      expect(broker.command).toEqual(['broker', '--config', '/etc/vigil/broker.yaml']);
      // Each node its own data folder; the database password only as a secret file.
      expect(broker.volumes).toContain(`${node}:/var/lib/vigil:rw`);
      expect(JSON.stringify(broker.secrets)).toContain('db-password');
      expect(Object.keys(broker.depends_on ?? {})).toEqual(
        expect.arrayContaining(['postgres', 'influxdb']),
      );
      expect(JSON.stringify(broker.environment)).not.toMatch(/postgres:\/\/[^@]*:[^@]*@/);
    }
    expect(services.postgres!.environment).toMatchObject({
      POSTGRES_PASSWORD_FILE: '/run/secrets/db-password',
    });
    expect(services.haproxy!.volumes).toContain(
      `${join(deploy, 'haproxy.cfg')}:/usr/local/etc/haproxy/haproxy.cfg:ro`,
    );
    expect(services.grafana!.volumes).toEqual(
      expect.arrayContaining([
        `${join(deploy, 'grafana/provisioning')}:/etc/grafana/provisioning:ro`,
        `${join(deploy, 'grafana/dashboards')}:/var/lib/grafana/dashboards:ro`,
      ]),
    );
  });

  it('refuses to start without the secrets and says which one is missing', () => {
    const noGrafana = compose(['config'], { VIGIL_ADMIN_PASSWORD: 'a' });
    expect(noGrafana.status).not.toBe(0);
    expect(noGrafana.stderr).toContain('set GRAFANA_ADMIN_PASSWORD in deploy/.env');
    const noAdmin = compose(['config'], { GRAFANA_ADMIN_PASSWORD: 'b' });
    expect(noAdmin.status).not.toBe(0);
    expect(noAdmin.stderr).toContain('set VIGIL_ADMIN_PASSWORD in deploy/.env');
  });
});

describe.skipIf(noHaproxy)(titled('deploy/haproxy.cfg', noHaproxy), () => {
  const file = join(deploy, 'haproxy.cfg');

  it('is valid for HAProxy; the only warnings are the node names, resolved inside compose', () => {
    const result = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toContain('Configuration file is valid');
    const warnings = output.split('\n').filter((line) => line.includes('[WARNING]'));
    for (const warning of warnings)
      expect(warning).toMatch(/could not resolve address 'broker-[12]'/);
  });

  it('sends MQTT and the console only to the node whose /api/health/leader answers 200', () => {
    const text = readFileSync(file, 'utf8');
    const backends = text.split(/\n(?=backend |frontend )/).filter((b) => b.startsWith('backend '));
    expect(backends.map((b) => b.split('\n')[0])).toEqual([
      'backend brokers-mqtt',
      'backend brokers-http',
    ]);
    for (const backend of backends) {
      expect(backend).toContain('http-check send meth GET uri /api/health/leader');
      expect(backend).toContain('http-check expect status 200');
      expect(backend).toMatch(/server broker-1 broker-1:\d+/);
      expect(backend).toMatch(/server broker-2 broker-2:\d+/);
    }
    // The MQTT backend's check goes to the HTTP port, where the route is.
    expect(backends[0]).toContain('server broker-1 broker-1:1883 check port 8080');
    // A node marked down (deposed) has its agents' sessions cut, so they reconnect.
    expect(text).toContain('on-marked-down shutdown-sessions');
  });
});

describe('deploy/broker.yaml', () => {
  it("is a valid broker config for both nodes: PostgreSQL with a password file, InfluxDB, HAProxy's forwarded addresses", () => {
    const file = join(deploy, 'broker.yaml');
    const config = parseConfig(readFileSync(file, 'utf8'), {
      baseDir: deploy,
      env: {},
      source: file,
    });
    expect(config.database).toEqual({
      url: 'postgres://vigil@postgres:5432/vigil',
      passwordFile: '/run/secrets/db-password',
    });
    expect(config.influx).toMatchObject({ url: 'http://influxdb:8086', database: 'vigil' });
    expect(config.http.trustProxy).toEqual(['uniquelocal']);
    expect(config.dataDir).toBe('/var/lib/vigil');
  });
});
