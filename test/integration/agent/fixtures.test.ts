/**
 * Real devices' answers (test/fixtures/onvif-agsh, captured by the agsh/onvif
 * project) served by a test server over HTTP: the agent's ONVIF client and every check
 * parse them without error. The server answers each SOAP operation with its capture,
 * filling the captures' template slots (host, port, times).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checks } from '../../../agent/checks/index.js';
import { DeviceMemory } from '../../../agent/checks/types.js';
import { checkDefaults } from '../../../agent/config.js';
import { OnvifDeviceClient } from '../../../agent/onvif/adapter.js';
import { runChecks } from '../../../agent/poll.js';
import { Secret } from '../../../agent/secret.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/onvif-agsh/', import.meta.url));

/** SOAP operation -> capture file. */
const files: Record<string, string> = {
  GetSystemDateAndTime: 'GetSystemDateAndTime.xml',
  GetDeviceInformation: 'GetDeviceInformation.xml',
  GetServices: 'GetServices.xml',
  GetCapabilities: 'GetCapabilities.xml',
  GetProfiles: 'GetProfiles.xml',
  GetStreamUri: 'GetStreamUri.xml',
  GetSnapshotUri: 'GetSnapshotUri.xml',
  CreatePullPointSubscription: 'events.CreatePullPointSubscription.xml',
  PullMessages: 'PullMessages.xml',
};

let server: Server;
let base: string;
const asked: string[] = [];

function fill(xml: string, port: number): string {
  return xml
    .replaceAll('{{=it.hostname}}', '127.0.0.1')
    .replaceAll('{{=it.port}}', String(port))
    .replaceAll('{{=it.pullPointUrl}}', '/onvif/subscription?index=0')
    .replaceAll('{{=new Date().toISOString()}}', new Date().toISOString())
    .replaceAll(
      '{{=new Date(Date.now()+5000).toISOString()}}',
      new Date(Date.now() + 5000).toISOString(),
    )
    .replace(/\{\{\?[^}]*\}\}/g, '');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const operation = /<s:Body><(?:\w+:)?(\w+)/.exec(body)?.[1] ?? '';
      asked.push(operation);
      const file = files[operation];
      const port = (server.address() as AddressInfo).port;
      if (!file) {
        res.writeHead(400, { 'Content-Type': 'application/soap+xml' });
        res.end(
          '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:ActionNotSupported</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">not in the captures</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>',
        );
        return;
      }
      void readFile(`${FIXTURES}${file}`, 'utf8').then((xml) => {
        const text = fill(xml, port);
        res.writeHead(200, {
          'Content-Type': 'application/soap+xml; charset=utf-8',
          'Content-Length': Buffer.byteLength(text),
        });
        res.end(text);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(): OnvifDeviceClient {
  return new OnvifDeviceClient(
    { xaddr: `${base}/onvif/device_service`, username: 'admin', password: new Secret('pw') },
    { timeoutMs: 2000 },
  );
}

describe('captured answers of real devices', () => {
  it('the client reads clock, identity, channels, URIs and events from them', async () => {
    const c = client();
    const clock = await c.clock();
    expect(clock.deviceUtc).toBeInstanceOf(Date);
    const info = await c.deviceInformation();
    expect(info.manufacturer).toBeTruthy();
    expect(info.serialNumber).toBeTruthy();
    const channels = await c.channels();
    expect(channels.length).toBeGreaterThan(0);
    expect(channels[0]?.profileToken).toBe('main');
    // The advertised host (192.168.68.111) is replaced by the configured one.
    expect(await c.streamUri('main')).toBe('rtsp://127.0.0.1/h264main');
    expect(await c.snapshotUri('main')).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/onvif-cgi\/jpg\/image\.cgi\?/,
    );
    const pullPoint = await c.createPullPoint(60);
    expect(pullPoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/onvif\/subscription\?index=0$/);
    const messages = await c.pullMessages(pullPoint);
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m.topic).toBeTruthy();
    expect(await c.recordings()).toBeNull();
    // The captured camera advertises no recording control service.
    expect(await c.recordingJobs()).toBeNull();
  });

  it.each(['camera', 'nvr'] as const)(
    'a whole poll of every check finds the device up (as %s)',
    async (kind) => {
      const result = await runChecks(checks, {
        device: {
          id: 'cam-x',
          name: 'Captured',
          kind,
          xaddr: `${base}/onvif/device_service`,
        },
        client: client(),
        signal: new AbortController().signal,
        // No RTSP server or JPEG behind the captured URIs.
        settings: { ...checkDefaults, stream: false, picture: false, clockDriftS: 1e9 },
        memory: new DeviceMemory(),
        now: Date.now,
        intervalS: 15,
      });
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect(result.values).toMatchObject({ up: true, channels: expect.any(Number) });
      expect(result.identity?.model).toBeTruthy();
    },
  );
});
