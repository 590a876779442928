/**
 * What a field engineer reads in the agent's log when TLS is what stops it: the real
 * broker with a TLS listener requiring client certificates (certificates made with
 * openssl), the agent's uplink connecting to it with something missing.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewAgentCredentials } from '../../../broker/agents/store.js';
import type { RunningBroker } from '../../../broker/app.js';
import type { MqttConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { Secret } from '../../../agent/secret.js';
import { MemorySpool } from '../../../agent/spool/memory.js';
import { Uplink } from '../../../agent/uplink.js';
import { makeCerts, startMutualTlsBroker, type TestCerts } from '../../helpers/certs.js';

describe('agent uplink against a TLS broker that requires client certificates', () => {
  let certs: TestCerts;
  let broker: RunningBroker;
  let account: NewAgentCredentials;
  let url: string;

  beforeAll(async () => {
    certs = await makeCerts();
    broker = await startMutualTlsBroker(certs);
    account = await broker.agents.add('site-a', 'gw-01');
    url = `mqtts://127.0.0.1:${broker.mqtt.tlsPort}`;
  }, 60_000);

  afterAll(async () => {
    await broker?.stop();
    await certs?.remove();
  });

  /** Runs an uplink with these TLS settings until `done` holds or 5 s pass; returns its log. */
  async function attempt(
    tls: Pick<MqttConfig, 'ca' | 'cert' | 'key'>,
    done: (log: MemoryLogger) => boolean,
  ): Promise<MemoryLogger> {
    const log = new MemoryLogger();
    const uplink = new Uplink({
      siteId: 'site-a',
      agentId: 'gw-01',
      mqtt: { url, username: account.username, password: new Secret(account.password), ...tls },
      log,
      spool: new MemorySpool(),
      birth: () => ({
        state: 'online',
        version: 'test',
        startedAt: new Date().toISOString(),
        hostname: 'gw',
        devices: [],
      }),
      reconnect: { minMs: 200, maxMs: 400 },
    });
    uplink.start();
    try {
      const until = Date.now() + 5000;
      while (!done(log) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await uplink.stop();
    }
    return log;
  }

  it('no client certificate: VIGIL_MQTT_CLIENT_CERT saying none is configured', async () => {
    const ca = await readFile(certs.caFile);
    const log = await attempt({ ca }, (l) => l.text().includes('VIGIL_MQTT_CLIENT_CERT'));
    expect(log.text()).toMatch(
      /VIGIL_MQTT_CLIENT_CERT: .*mqtt\.cert, mqtt\.key.*\(broker mqtts:\/\/127\.0\.0\.1:\d+: no certificate is configured\)/,
    );
    expect(log.text()).not.toContain(account.password);
  });

  it('no CA for the broker: VIGIL_MQTT_SERVER_CERT naming OpenSSL verdict and mqtt.ca', async () => {
    const log = await attempt({}, (l) => l.text().includes('VIGIL_MQTT_SERVER_CERT'));
    expect(log.text()).toMatch(
      /VIGIL_MQTT_SERVER_CERT: .*mqtt\.ca.*\(broker mqtts:\/\/127\.0\.0\.1:\d+: [A-Z_]+; no mqtt\.ca is configured\)/,
    );
  });

  it('with the CA and a client certificate it connects, and logs no TLS error', async () => {
    const ca = await readFile(certs.caFile);
    let connected = false;
    const log = await attempt(
      {
        ca,
        cert: Buffer.from(certs.clientCert),
        key: new Secret(Buffer.from(certs.clientKey)),
      },
      () => (connected ||= broker.mqtt.stats.agents > 0),
    );
    expect(connected).toBe(true);
    expect(log.text()).not.toMatch(/VIGIL_MQTT_(CLIENT|SERVER)_CERT/);
  });
});
