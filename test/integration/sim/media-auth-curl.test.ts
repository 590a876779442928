/**
 * An independent client believes the simulator's media authentication: curl (its own
 * Digest and Basic: RFC 7616 with qop=auth, MD5 and SHA-256; RFC 7617) gets the pictures
 * with the right password and 401 with a wrong one, on every personality. So the
 * simulator checks HTTP authentication as HTTP defines it, not as our agent happens to
 * do it. (curl's command line sends RTSP OPTIONS only, so RTSP is not checked here.)
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimSite } from '../../../sim/site.js';
import { curl as curlProgram, skipReason, titled } from '../../helpers/requires.js';

const ACCOUNT = { username: 'admin', password: 'curl pw' };
const site = new SimSite({
  siteId: 'it-media-curl',
  devices: [
    { kind: 'camera', channels: 1 },
    { kind: 'camera', channels: 1, personality: 'legacy-camera' },
    { kind: 'nvr', channels: 2, personality: 'budget-nvr' },
    { kind: 'camera', channels: 1, personality: 'odd-encoder' },
    { kind: 'camera', channels: 1, personality: 'digest-only' },
  ],
  credentials: ACCOUNT,
});
const reason = skipReason(curlProgram);

beforeAll(async () => {
  if (!reason) await site.start();
});
afterAll(async () => {
  if (!reason) await site.stop();
});

/**
 * curl's status code and body for `url`, authenticating as curl chooses (--anyauth).
 * Asynchronous: the simulator answers from this very process.
 */
function curl(url: string, password: string): Promise<{ code: number; body: Buffer }> {
  const args = ['-s', '--anyauth', '-u', `${ACCOUNT.username}:${password}`];
  args.push('-w', '\n%{response_code}', url);
  return new Promise((resolve, reject) => {
    execFile('curl', args, { encoding: 'buffer', timeout: 10_000 }, (error, out) => {
      if (error && error.code !== 0 && out.length === 0) return reject(error);
      const cut = out.lastIndexOf(0x0a);
      resolve({ code: Number(out.subarray(cut + 1).toString()), body: out.subarray(0, cut) });
    });
  });
}

describe.skipIf(reason)(titled('curl against the simulated media', reason), () => {
  it("reads every personality's snapshot with the password, 401 without it", async () => {
    for (const device of site.devices()) {
      const token = Object.keys(device.streams)[0] ?? '';
      const url = new URL(`/snapshot/${token}.jpg`, device.xaddr).toString();
      const picture = await curl(url, ACCOUNT.password);
      expect(picture.code, `${device.id} ${device.personality}`).toBe(200);
      expect(picture.body.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect((await curl(url, 'wrong')).code, device.id).toBe(401);
    }
  });
});
