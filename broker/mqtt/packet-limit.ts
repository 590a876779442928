/**
 * The maximum packet size, enforced while reading. mqtt-packet (Aedes' parser) has no
 * size limit: it buffers a packet until all the bytes its fixed header announced have
 * arrived, so a client announcing a 200 MiB PUBLISH makes the broker hold 200 MiB before
 * any hook sees it. This guard reads only the fixed header of each packet (MQTT 3.1.1
 * section 2.2: one byte of type and flags, then the Remaining Length, section 2.2.3) and
 * jumps over the body by arithmetic, so its cost is a few operations per packet and
 * none per byte. A packet over the limit is reported as soon as its header arrives,
 * before its body does.
 *
 * The size is the whole packet (fixed header + Remaining Length), as MQTT 5.0 section
 * 3.1.2.11.4 defines the Maximum Packet Size.
 */

/** MQTT control packet names by type, MQTT 3.1.1 section 2.2.1 (Table 2.1). */
const packetNames = [
  'reserved',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'reserved',
] as const;

export type PacketName = (typeof packetNames)[number];

/** A packet whose header announced more bytes than the limit. */
export interface Oversize {
  packet: PacketName;
  /** Fixed header plus Remaining Length, in bytes. */
  bytes: number;
  limit: number;
  /**
   * For a PUBLISH whose topic arrived in the same chunk as its header (MQTT 3.1.1
   * section 3.3.2.1: a two-byte length, then UTF-8): the topic, for the audit log.
   */
  topic: string | null;
}

/** The longest topic read for the audit log; the audit bounds what it stores anyway. */
const TOPIC_PEEK_BYTES = 1024;

/**
 * Follows the packet boundaries of one connection's byte stream, chunk by chunk. The
 * state survives chunk boundaries: a header may be split across two reads.
 */
export class PacketSizeGuard {
  /** Body bytes of the current packet not seen yet. */
  private skip = 0;
  /** Bytes of the current fixed header seen; 0 at a packet boundary. */
  private headerBytes = 0;
  private type = 0;
  private remaining = 0;
  private multiplier = 1;
  private stopped = false;

  constructor(readonly limit: number) {}

  /**
   * Scans the next chunk of the stream. Returns the first packet over the limit, and
   * stops scanning from then on (the connection is to be closed); null otherwise.
   */
  scan(chunk: Buffer): Oversize | null {
    if (this.stopped) return null;
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, length - i);
        this.skip -= step;
        i += step;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.headerBytes === 0) {
        this.type = byte >> 4;
        this.remaining = 0;
        this.multiplier = 1;
        this.headerBytes = 1;
        continue;
      }
      // Remaining Length: seven bits a byte, least significant first, the top bit says
      // another byte follows; at most four bytes (MQTT 3.1.1 section 2.2.3).
      this.remaining += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      if (byte & 0x80) {
        // A fifth length byte is malformed: mqtt-packet refuses it and Aedes closes.
        if (this.headerBytes === 5) {
          this.stopped = true;
          return null;
        }
        continue;
      }
      const bytes = this.headerBytes + this.remaining;
      if (bytes > this.limit) {
        this.stopped = true;
        const packet = packetNames[this.type]!;
        return {
          packet,
          bytes,
          limit: this.limit,
          topic: packet === 'PUBLISH' ? peekTopic(chunk, i) : null,
        };
      }
      this.skip = this.remaining;
      this.headerBytes = 0;
    }
    return null;
  }
}

function peekTopic(chunk: Buffer, at: number): string | null {
  if (at + 2 > chunk.length) return null;
  const length = chunk.readUInt16BE(at);
  const end = at + 2 + Math.min(length, TOPIC_PEEK_BYTES);
  if (end > chunk.length) return null;
  return chunk.toString('utf8', at + 2, end);
}
