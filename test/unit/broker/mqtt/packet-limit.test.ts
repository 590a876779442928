/**
 * The packet guard follows packet boundaries by their fixed headers alone (MQTT 3.1.1
 * section 2.2), across any split of the stream into chunks, and names the first packet
 * over the limit as soon as its header is in; the refusal classifier turns Aedes' own
 * refusals into audit entries.
 */
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard } from '../../../../broker/mqtt/packet-limit.js';
import { refusalOf, tlsRefusal } from '../../../../broker/mqtt/refusals.js';
import { remainingLength, utf8 } from '../../../helpers/mqtt-packets.js';

function publish(topic: string, payloadBytes: number): Buffer {
  const body = Buffer.concat([utf8(topic), Buffer.from([0, 1]), Buffer.alloc(payloadBytes, 120)]);
  return Buffer.concat([Buffer.from([0x32]), remainingLength(body.length), body]);
}

const ping = Buffer.from([0xc0, 0x00]);

describe('PacketSizeGuard', () => {
  it('lets a stream of packets within the limit through, however it is split', () => {
    const stream = Buffer.concat([
      publish('vigil/v1/a/devices/cam/metrics', 500),
      ping,
      publish('vigil/v1/a/devices/cam/state', 20_000),
      ping,
      publish('t', 0),
      publish('vigil/v1/a/devices/cam/metrics', 30_000),
    ]);
    for (const size of [1, 2, 3, 7, 64, 1000, 16_384, stream.length]) {
      const guard = new PacketSizeGuard(32 * 1024);
      const found = [];
      for (let at = 0; at < stream.length; at += size)
        found.push(guard.scan(stream.subarray(at, at + size)));
      expect(found.filter((f) => f !== null)).toEqual([]);
    }
  });

  it('names an oversize PUBLISH, its size and topic, from its header alone', () => {
    const guard = new PacketSizeGuard(4096);
    expect(guard.scan(publish('vigil/v1/a/devices/cam/metrics', 100))).toBeNull();
    // The header and topic of a 200 MiB PUBLISH; its body has not come.
    const header = publish('vigil/v1/a/devices/cam/metrics', 0);
    const huge = Buffer.concat([
      Buffer.from([0x32]),
      remainingLength(200 * 1024 * 1024),
      header.subarray(2),
    ]);
    expect(guard.scan(huge)).toEqual({
      packet: 'PUBLISH',
      bytes: 1 + 4 + 200 * 1024 * 1024,
      limit: 4096,
      topic: 'vigil/v1/a/devices/cam/metrics',
    });
    // Stopped: the connection is being closed.
    expect(guard.scan(ping)).toBeNull();
  });

  it('finds the oversize header when it is split across chunks, after other packets', () => {
    const guard = new PacketSizeGuard(1024);
    const small = publish('x/y', 10);
    const length = remainingLength(5000);
    expect(guard.scan(Buffer.concat([small, Buffer.from([0x10]), length.subarray(0, 1)]))).toBe(
      null,
    );
    expect(guard.scan(length.subarray(1))).toMatchObject({ packet: 'CONNECT', bytes: 5003 });
  });

  it('counts the whole packet: a packet of exactly the limit passes, one byte more does not', () => {
    const packet = publish('t', 100);
    expect(new PacketSizeGuard(packet.length).scan(packet)).toBeNull();
    expect(new PacketSizeGuard(packet.length - 1).scan(packet)).toMatchObject({
      bytes: packet.length,
    });
  });
});

describe('refusalOf (what Aedes refused on its own)', () => {
  it('names a too-deep PUBLISH topic with its depth and the limit', () => {
    const topic = 'vigil/v1/site-a/a/b/c/d/e/f/g/h';
    expect(
      refusalOf(new Error('topic has too many levels'), { cmd: 'publish', topic }, false, 8),
    ).toEqual({ action: 'publish', topic, reason: 'topic of 11 levels over the limit of 8' });
  });

  it('names the refused filter of a SUBSCRIBE', () => {
    expect(
      refusalOf(
        new Error('# is only allowed in SUBSCRIBE in the last position'),
        { cmd: 'subscribe', subscriptions: [{ topic: 'a/b' }, { topic: 'a/#/b' }] },
        false,
        16,
      ),
    ).toMatchObject({ action: 'subscribe', topic: 'a/#/b' });
  });

  it('explains an MQTT 5 CONNECT, and ignores network errors', () => {
    const v5 = Object.assign(new Error('unacceptable protocol version'), { errorCode: 1 });
    expect(refusalOf(v5, { cmd: 'connect' }, false, 16)?.reason).toMatch(/not MQTT 5/);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(refusalOf(reset, { cmd: 'publish', topic: 'x' }, false, 16)).toBeNull();
  });
});

describe('tlsRefusal', () => {
  const error = (code: string) => Object.assign(new Error(code), { code });
  it('words a missing or foreign client certificate with its code', () => {
    expect(tlsRefusal(error('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE'), undefined)).toMatch(
      /^VIGIL_MQTT_CLIENT_CERT: .*sent no certificate/,
    );
    expect(tlsRefusal(error('ECONNRESET'), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toMatch(
      /^VIGIL_MQTT_CLIENT_CERT: .*not signed by mqtt\.tls\.ca .*UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    );
  });
  it('is no refusal when the client gave up (a reset, or it did not trust us)', () => {
    expect(tlsRefusal(error('ECONNRESET'), undefined)).toBeNull();
    expect(tlsRefusal(error('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), undefined)).toBeNull();
  });
});
