import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../broker/config.js';
import { defaultSla } from '../../../broker/tickets/types.js';
import { VigilError } from '../../../shared/errors.js';

function errorOf(run: () => unknown): VigilError {
  try {
    run();
  } catch (error) {
    if (error instanceof VigilError) return error;
    throw error;
  }
  throw new Error('expected a VigilError');
}

describe('broker config', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-config-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs with defaults when there is no file', () => {
    const config = loadConfig(undefined, {});
    expect(config).toMatchObject({
      dataDir: resolve('data'),
      mqtt: { host: '0.0.0.0', port: 1883 },
      http: { host: '0.0.0.0', port: 8080 },
      influx: null,
      // Raw readings a month, rollups two years: InfluxDB's policies, for either store.
      metrics: { rawDays: 30, rollupDays: 730 },
      sla: defaultSla,
    });
  });

  it('takes the data folder and ports from the environment when the file says nothing', () => {
    const config = loadConfig(undefined, {
      VIGIL_DATA_DIR: '/var/lib/vigil',
      MQTT_PORT: '11883',
      HTTP_PORT: '0',
    });
    expect(config.dataDir).toBe('/var/lib/vigil');
    expect(config.mqtt.port).toBe(11883);
    expect(config.http.port).toBe(0);
  });

  it('reads a file, with relative paths taken from its folder and the file winning over the environment', async () => {
    const file = join(dir, 'broker.yaml');
    await writeFile(
      file,
      [
        'dataDir: ./state',
        'mqtt:',
        '  host: 127.0.0.1',
        '  port: 2883',
        '  tls: { port: 8883, cert: tls/broker.crt, key: tls/broker.key, ca: tls/ca.crt }',
        '  ws: { port: 8083 }',
        '  limits: { maxPayloadBytes: 65536 }',
        'journal: { maxBytes: 104857600, groupCommitMs: 3 }',
        'metrics: { rawDays: 14, rollupDays: 1095 }',
        'influx: { url: "http://influx:8086" }',
        'sla:',
        '  serious: { respondMin: 5 }',
        'consoleDir: null',
      ].join('\n'),
    );
    const config = loadConfig(file, { MQTT_PORT: '9999' });
    expect(config.dataDir).toBe(join(dir, 'state'));
    expect(config.mqtt).toEqual({
      host: '127.0.0.1',
      port: 2883,
      tls: {
        host: '127.0.0.1',
        port: 8883,
        certFile: join(dir, 'tls/broker.crt'),
        keyFile: join(dir, 'tls/broker.key'),
        caFile: join(dir, 'tls/ca.crt'),
        requireClientCert: false,
      },
      ws: { host: '127.0.0.1', port: 8083 },
      limits: { maxPayloadBytes: 65536, maxTopicLevels: 16, connectionsPerSecond: 200 },
    });
    expect(config.journal).toEqual({ maxBytes: 104_857_600, groupCommitMs: 3, store: 'file' });
    expect(config.metrics).toEqual({ rawDays: 14, rollupDays: 1095 });
    expect(config.influx).toEqual({ url: 'http://influx:8086', database: 'vigil' });
    expect(config.sla.serious).toEqual({ ...defaultSla.serious, respondMin: 5 });
    expect(config.sla.emergency).toEqual(defaultSla.emergency);
    expect(config.consoleDir).toBeNull();
  });

  it('refuses rollups kept shorter than the raw readings, saying what to do', () => {
    const error = errorOf(() => parseConfig('metrics: { rawDays: 30, rollupDays: 7 }'));
    expect(error.details).toEqual([
      'metrics/rollupDays: 7 is shorter than metrics/rawDays (30); keep the rollups at least as long as the raw readings',
    ]);
    expect(parseConfig('metrics: { rawDays: 7 }').metrics).toEqual({ rawDays: 7, rollupDays: 730 });
  });

  it('lists every error by its path', () => {
    const error = errorOf(() =>
      parseConfig(
        [
          'mqtt: { port: 70000, hots: x }',
          'http: { port: "eighty" }',
          'influx: { url: "http://influx:8086", password: 3 }',
          'sla: { emergency: { respondMin: 0 } }',
          'extra: true',
        ].join('\n'),
        { env: {} },
      ),
    );
    expect(error.code).toBe('VIGIL_CONFIG_INVALID');
    expect(error.details).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mqtt\/port: must be <= 65535/),
        'mqtt: unknown field(s) hots',
        expect.stringMatching(/^http\/port: must be integer/),
        expect.stringMatching(/^influx\/password: must be string/),
        expect.stringMatching(/^sla\/emergency\/respondMin: must be > 0/),
        '(root): unknown field(s) extra',
      ]),
    );
    expect(error.describe()).toContain('fix every listed path');
  });

  it('refuses requireClientCert without the CA that signs the agents', () => {
    const error = errorOf(() =>
      parseConfig('mqtt: { tls: { cert: a.crt, key: a.key, requireClientCert: true } }', {
        env: {},
      }),
    );
    expect(error.details).toEqual([
      "mqtt/tls/requireClientCert: needs mqtt/tls/ca, the CA that signs the agents' client certificates",
    ]);
  });

  it('wants an http(s) URL for InfluxDB', () => {
    const error = errorOf(() => parseConfig('influx: { url: "influx:8086" }', { env: {} }));
    expect(error.details).toContain('influx/url: must match pattern "^https?://"');
  });

  it('reports a bad port in the environment together with the file errors', () => {
    const error = errorOf(() => parseConfig('mqtt: { port: -1 }', { env: { HTTP_PORT: 'http' } }));
    expect(error.details).toEqual([
      expect.stringMatching(/^mqtt\/port: must be >= 0/),
      expect.stringMatching(/^HTTP_PORT \(environment\): "http" is not a TCP port/),
    ]);
  });

  it('says where the YAML is broken', () => {
    const error = errorOf(() => parseConfig('mqtt:\n  port: [1883\n', { env: {} }));
    expect(error.code).toBe('VIGIL_CONFIG_INVALID');
    expect(error.details[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('treats an empty file as no settings', () => {
    expect(parseConfig('', { env: {} }).mqtt.port).toBe(1883);
  });

  it('says which file it cannot read', () => {
    const missing = join(dir, 'nope.yaml');
    const error = errorOf(() => loadConfig(missing, {}));
    expect(error.code).toBe('VIGIL_CONFIG_UNREADABLE');
    expect(error.message).toContain(missing);
  });
});
