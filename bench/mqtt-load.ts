/**
 * A minimal MQTT 3.1.1 publisher for the broker benchmark: CONNECT, QoS 1 PUBLISH and
 * PUBACK written and read by hand over a TCP socket (MQTT 3.1.1 sections 3.1, 3.3, 3.4).
 * mqtt.js costs the load generator more CPU per message than the brokers it measures,
 * and on a 2-core machine that starves them; this costs a few microseconds.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connectPacket, remainingLength, utf8 } from '../test/helpers/mqtt-packets.js';

export class LoadPublisher {
  private socket: Socket | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly clientId: string,
    private readonly username: string,
    private readonly password: string,
  ) {}

  /** Connects and resolves once the broker accepted (CONNACK 0). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(this.port, this.host);
      socket.setNoDelay(true);
      this.socket = socket;
      let connected = false;
      socket.on('error', (error) => {
        if (!connected) reject(error);
      });
      socket.on('data', (chunk: Buffer) => {
        this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
        for (;;) {
          if (this.pending.length < 2) return;
          let length = 0;
          let multiplier = 1;
          let at = 1;
          let byte: number;
          do {
            if (at >= this.pending.length) return;
            byte = this.pending[at++]!;
            length += (byte & 0x7f) * multiplier;
            multiplier *= 128;
          } while (byte & 0x80);
          if (this.pending.length < at + length) return;
          const type = this.pending[0]! >> 4;
          if (type === 2) {
            const code = this.pending[at + 1];
            if (code === 0) {
              connected = true;
              resolve();
            } else reject(new Error(`CONNACK return code ${code}`));
          } else if (type === 4) {
            const id = this.pending.readUInt16BE(at);
            const done = this.waiting.get(id);
            this.waiting.delete(id);
            done?.();
          }
          this.pending = this.pending.subarray(at + length);
        }
      });
      socket.write(connectPacket(this.clientId, this.username, this.password));
    });
  }

  /**
   * QoS 1 PUBLISH; `acked` runs when the PUBACK arrives. `retain` sets the RETAIN flag
   * (section 3.3.1.3), as the agent's birth message has it.
   */
  publish(topic: string, payload: string, acked: () => void, retain = false): void {
    const id = this.nextId;
    this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
    const topicBytes = utf8(topic);
    const payloadBytes = Buffer.from(payload, 'utf8');
    const idBytes = Buffer.from([id >> 8, id & 0xff]);
    const length = topicBytes.length + 2 + payloadBytes.length;
    this.waiting.set(id, acked);
    this.socket?.write(
      Buffer.concat([
        Buffer.from([retain ? 0x33 : 0x32]),
        remainingLength(length),
        topicBytes,
        idBytes,
        payloadBytes,
      ]),
    );
  }

  get unacknowledged(): number {
    return this.waiting.size;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      const socket = this.socket;
      this.socket = null;
      if (!socket) return resolve();
      // DISCONNECT (section 3.14), then close.
      socket.end(Buffer.from([0xe0, 0]), () => resolve());
      socket.once('close', () => resolve());
    });
  }
}
