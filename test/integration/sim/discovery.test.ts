/** WS-Discovery on loopback: Hello at start, one ProbeMatch per device per Probe, Bye at stop. */
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { NS } from '../../../sim/soap/namespaces.js';
import { child, parseXml, textAt } from '../../../sim/soap/xml.js';

let listener: Socket;
const received: { xml: string; at: number }[] = [];
let site: SimSite;

beforeAll(async () => {
  listener = createSocket('udp4');
  listener.on('message', (message) => received.push({ xml: message.toString(), at: Date.now() }));
  await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
  site = new SimSite({
    siteId: 'it-discovery',
    cameras: 3,
    nvrs: 1,
    nvrChannels: 2,
    credentials: { username: 'admin', password: 'pw' },
    discovery: {
      address: '127.0.0.1',
      port: 0,
      multicast: false,
      announceTo: { address: '127.0.0.1', port: listener.address().port },
    },
  });
  await site.start();
});

afterAll(async () => {
  await site.stop();
  listener.close();
});

function action(xml: string): string {
  const header = child(parseXml(xml), 'Header', NS.env);
  return (header && textAt(header, 'Action')) ?? '';
}

async function settle(count: number, withinMs = 2000): Promise<void> {
  const end = Date.now() + withinMs;
  while (received.length < count && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function probe(types = 'dn:NetworkVideoTransmitter'): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.env}" ` +
    `xmlns:a="${NS.wsa2004}" xmlns:d="${NS.wsd}" xmlns:dn="${NS.dn}"><s:Header>` +
    `<a:MessageID>uuid:${randomUUID()}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    `<a:Action>${NS.wsd}/Probe</a:Action></s:Header><s:Body><d:Probe><d:Types>${types}</d:Types>` +
    '</d:Probe></s:Body></s:Envelope>'
  );
}

describe('WS-Discovery', () => {
  it('says Hello for every device at start', async () => {
    await settle(4);
    expect(received.map((r) => action(r.xml))).toEqual(
      Array.from({ length: 4 }, () => `${NS.wsd}/Hello`),
    );
  });

  it('answers a Probe with one ProbeMatch message per device, within APP_MAX_DELAY, to the prober', async () => {
    received.length = 0;
    await site.setFault('cam-02', { kind: 'offline' });
    const sent = Date.now();
    listener.send(probe(), site.discoveryPort, '127.0.0.1');
    await settle(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).toHaveLength(3);
    const xaddrs = received.map((r) => {
      const body = child(parseXml(r.xml), 'Body', NS.env);
      const matches = body && child(body, 'ProbeMatches', NS.wsd);
      expect(matches?.children).toHaveLength(1);
      expect(textAt(matches!, 'ProbeMatch', 'Types')).toBe('dn:NetworkVideoTransmitter tds:Device');
      return textAt(matches!, 'ProbeMatch', 'XAddrs');
    });
    expect(xaddrs.sort()).toEqual(
      ['cam-01', 'cam-03', 'nvr-01'].map((id) => site.device(id)?.xaddr).sort(),
    );
    // A device answers within APP_MAX_DELAY (500 ms, WS-Discovery 1.1); ours answer at once,
    // so the bound is that plus as much again for a busy 2-core machine. A simulator holding
    // its answers a second or more still fails.
    expect(Math.max(...received.map((r) => r.at)) - sent).toBeLessThan(1000);
    await site.clearFaults('cam-02');
  });

  it('ignores a Probe for other device types', async () => {
    received.length = 0;
    listener.send(probe('dn:NetworkVideoDisplay'), site.discoveryPort, '127.0.0.1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.filter((r) => action(r.xml).endsWith('ProbeMatches'))).toEqual([]);
  });

  it('says Hello when a device comes back from a reboot', async () => {
    received.length = 0;
    await site.setFault('cam-03', { kind: 'reboot', downS: 0.2 });
    await settle(1);
    expect(action(received[0]?.xml ?? '')).toBe(`${NS.wsd}/Hello`);
    expect(received[0]?.xml).toContain(site.device('cam-03')?.xaddr);
  });
});

describe('WS-Discovery Bye', () => {
  it('says Bye for every device when the site stops', async () => {
    const local = createSocket('udp4');
    const heard: string[] = [];
    local.on('message', (m) => heard.push(action(m.toString())));
    await new Promise<void>((resolve) => local.bind(0, '127.0.0.1', resolve));
    const small = new SimSite({
      siteId: 'it-bye',
      cameras: 2,
      nvrs: 0,
      credentials: { username: 'admin', password: 'pw' },
      discovery: {
        address: '127.0.0.1',
        port: 0,
        multicast: false,
        announceTo: { address: '127.0.0.1', port: local.address().port },
      },
    });
    await small.start();
    await small.stop();
    const end = Date.now() + 2000;
    while (heard.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    local.close();
    expect(heard).toEqual([`${NS.wsd}/Hello`, `${NS.wsd}/Hello`, `${NS.wsd}/Bye`, `${NS.wsd}/Bye`]);
  });
});
