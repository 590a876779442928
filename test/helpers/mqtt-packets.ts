/**
 * MQTT 3.1.1 packets written by hand, for what a client library will not send (a header
 * announcing 200 MiB, a packet to another site's topic) and for a load generator that
 * must cost less than the brokers it measures (bench/mqtt-load.ts).
 */

/** Remaining Length, MQTT 3.1.1 section 2.2.3. */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

/** A UTF-8 string with its 2-byte length, MQTT 3.1.1 section 1.5.3. */
export function utf8(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
}

/** CONNECT (section 3.1): clean session, keep-alive 60 s, username and password. */
export function connectPacket(clientId: string, username: string, password: string): Buffer {
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([4, 0x80 | 0x40 | 0x02, 0, 60]),
    utf8(clientId),
    utf8(username),
    utf8(password),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}
