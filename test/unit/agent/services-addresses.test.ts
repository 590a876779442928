/**
 * Where the agent sends a media request: the advertised snapshot address moved onto the
 * configured host (NAT), with the configured port only where the scheme is the configured
 * one, against a small ONVIF server answering captured GetSnapshotUri answers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OwnServices } from '../../../agent/onvif/services.js';
import { OnvifError } from '../../../agent/onvif/types.js';
import { Secret } from '../../../agent/secret.js';
import { fixture, SoapServer } from './soap-server.js';

const CAPTURED =
  'http://192.168.68.111/onvif-cgi/jpg/image.cgi?resolution=800x600&amp;compression=20&amp;camera=1';
const PASSWORD = 'p@ss w/rd+1&2';

describe('advertised media addresses', () => {
  let server: SoapServer;
  let services: OwnServices;

  beforeEach(async () => {
    server = new SoapServer();
    await server.start();
    services = new OwnServices({
      xaddr: server.xaddr,
      username: 'admin',
      password: new Secret(PASSWORD),
      timeoutMs: 2000,
      offsetMs: () => 0,
    });
  });

  afterEach(async () => {
    await server.stop();
  });

  const advertise = (uri: string): void => {
    server.answers.set('GetSnapshotUri', {
      body: fixture('GetSnapshotUri').replace(CAPTURED, uri),
    });
  };

  it('puts an address of the configured scheme on the configured host and port', async () => {
    advertise('http://192.168.68.111/snap.jpg?camera=1');
    expect(await services.snapshotUri('p1')).toBe(
      `http://127.0.0.1:${server.port}/snap.jpg?camera=1`,
    );
  });

  it('keeps the advertised port of another scheme (the configured port speaks the other)', async () => {
    advertise('https://192.168.68.111/snap.jpg');
    expect(await services.snapshotUri('p1')).toBe('https://127.0.0.1/snap.jpg');
    advertise('https://192.168.68.111:8443/snap.jpg');
    expect(await services.snapshotUri('p1')).toBe('https://127.0.0.1:8443/snap.jpg');
  });

  it('names an invalid advertised address without the password in it', async () => {
    advertise(`http://[bad/snap.cgi?loginuse=admin&amp;loginpas=${encodeURIComponent(PASSWORD)}`);
    const error = await services.snapshotUri('p1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OnvifError);
    expect((error as OnvifError).message).toContain('loginpas=***');
    expect((error as OnvifError).message).not.toContain(encodeURIComponent(PASSWORD));
  });
});
