/**
 * An agent configured with several broker nodes (mqtt.url as a list, issue 17) stays with
 * the node that accepts it and moves on when a node refuses (CONNACK 3, server
 * unavailable: a standby) or goes away; what it spooled meanwhile reaches the node that
 * took over. Real Aedes brokers over TCP, the agent's real uplink (mqtt.js).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../agent/config.js';
import { MemoryLogger } from '../../../agent/log.js';
import { Secret } from '../../../agent/secret.js';
import { MemorySpool } from '../../../agent/spool/memory.js';
import { Uplink } from '../../../agent/uplink.js';
import { tempDir } from '../../helpers/temp.js';

interface Node {
  url: string;
  serving: boolean;
  published: string[];
  clients: number;
  close(): Promise<void>;
}

const nodes: Node[] = [];
let uplink: Uplink | null = null;

afterEach(async () => {
  await uplink?.stop();
  uplink = null;
  for (const node of nodes.splice(0)) await node.close();
});

/** A broker node: serving, it accepts the agent; not serving, it answers CONNACK 3. */
async function brokerNode(serving: boolean): Promise<Node> {
  const aedes = await Aedes.createBroker();
  const node: Node = {
    url: '',
    serving,
    published: [],
    clients: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
  aedes.authenticate = (_client, _user, _password, done) => {
    if (node.serving) return done(null, true);
    const refusal = Object.assign(new Error('standby'), { returnCode: 3 as const });
    done(refusal, false);
  };
  aedes.on('client', () => (node.clients += 1));
  aedes.on('publish', (packet, client) => {
    if (client) node.published.push(packet.topic);
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  nodes.push(node);
  return node;
}

function startUplink(urls: string[], log: MemoryLogger): Uplink {
  const up = new Uplink({
    siteId: 'ha-site',
    agentId: 'gw-01',
    mqtt: { url: urls[0]!, urls, username: 'ha-site.gw-01', password: new Secret('pw') },
    log,
    spool: new MemorySpool(),
    reconnect: { minMs: 100, maxMs: 400 },
    birth: () => ({
      state: 'online',
      version: '0',
      startedAt: new Date().toISOString(),
      hostname: 'h',
      devices: [],
    }),
  });
  up.start();
  return up;
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const state = (up: Uplink, n: number) =>
  up.publishDeviceState(`cam-0${n}`, {
    deviceId: `cam-0${n}`,
    name: `Camera ${n}`,
    kind: 'camera',
    xaddr: `http://192.0.2.1${n}/onvif/device_service`,
    status: 'up',
    since: new Date().toISOString(),
    reasons: [],
  });

describe('several broker nodes', () => {
  it('passes over a standby that refuses, and follows the leader when it moves', async () => {
    const standby = await brokerNode(false);
    const leader = await brokerNode(true);
    const log = new MemoryLogger();
    uplink = startUplink([standby.url, leader.url], log);
    const up = uplink;
    await until(() => up.connected);
    expect(up.broker).toBe(leader.url);
    expect(log.text()).toMatch(
      /does not serve now \(server unavailable: a standby node\?\); asking the next one/,
    );
    expect(state(up, 1)).toBe(true);
    await until(() => leader.published.some((t) => t.endsWith('/cam-01/state')));

    // The leader dies; the standby takes over. What the agent spools meanwhile is not lost.
    await leader.close();
    nodes.splice(nodes.indexOf(leader), 1);
    await until(() => !up.connected);
    expect(state(up, 2)).toBe(true);
    standby.serving = true;
    await until(() => up.connected && up.broker === standby.url);
    await until(() => standby.published.some((t) => t.endsWith('/cam-02/state')));
    expect(log.text()).toMatch(new RegExp(`lost the connection to ${leader.url}`));
  });

  it('reads several nodes from the config, each URL checked', async () => {
    const dir = await tempDir('vigil-agent-urls-');
    try {
      const { writeFile } = await import('node:fs/promises');
      const write = (urls: string) =>
        writeFile(
          `${dir.path}/agent.yaml`,
          [
            'siteId: ha-site',
            'agentId: gw-01',
            'mqtt:',
            `  url: ${urls}`,
            '  username: ha-site.gw-01',
            '  password: pw',
            'onvif:',
            '  username: admin',
            '  password: pw',
            'devices: []',
            '',
          ].join('\n'),
        );
      await write('[mqtt://10.0.0.1:1883, mqtts://10.0.0.2:8883]');
      const config = await loadConfig(`${dir.path}/agent.yaml`);
      expect(config.mqtt.url).toBe('mqtt://10.0.0.1:1883');
      expect(config.mqtt.urls).toEqual(['mqtt://10.0.0.1:1883', 'mqtts://10.0.0.2:8883']);
      await write('[mqtt://10.0.0.1:1883, http://u:p@10.0.0.2]');
      await expect(loadConfig(`${dir.path}/agent.yaml`)).rejects.toMatchObject({
        details: expect.arrayContaining([
          'mqtt/url/1: must start with mqtt:// or mqtts://',
          'mqtt/url/1: must not contain credentials; use mqtt.username and mqtt.password',
        ]),
      });
    } finally {
      await dir.remove();
    }
  });
});
