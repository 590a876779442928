/**
 * What the packet-size guard (broker/mqtt/packet-limit.ts) costs per message: Aedes
 * alone against Aedes with the guard reading each chunk as MqttServer attaches it, under
 * the same QoS 1 load (50 connections, 20 in flight each, from a child process so only
 * the broker's CPU is counted), rounds alternated so both see the same machine; then
 * the guard's scan alone, per packet. Run: npm run build:server && node
 * dist/bench/mqtt-guard.js (env VIGIL_BENCH_ROUNDS=6, VIGIL_BENCH_MESSAGES=1000 per
 * connection, VIGIL_BENCH_PAYLOAD=300 bytes).
 */
import { fork } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Aedes } from 'aedes';
import { PacketSizeGuard } from '../broker/mqtt/packet-limit.js';
import { LoadPublisher } from './mqtt-load.js';

const CONNECTIONS = 50;
const WINDOW = 20;
const ROUNDS = Number(process.env.VIGIL_BENCH_ROUNDS ?? 6);
const PER_CONNECTION = Number(process.env.VIGIL_BENCH_MESSAGES ?? 1000);
const PAYLOAD = 'x'.repeat(Number(process.env.VIGIL_BENCH_PAYLOAD ?? 300));
const LIMIT = 256 * 1024 + 1024;

/** The child: publishes PER_CONNECTION messages on each connection, WINDOW in flight. */
async function load(port: number): Promise<void> {
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, n) => {
      const publisher = new LoadPublisher('127.0.0.1', port, `bench-${n}`, 'u', 'p');
      await publisher.start();
      const topic = `vigil/v1/bench/devices/cam-${n}/metrics`;
      await new Promise<void>((resolve) => {
        let sent = 0;
        let acked = 0;
        const more = (): void => {
          while (sent < PER_CONNECTION && sent - acked < WINDOW) {
            sent++;
            publisher.publish(topic, PAYLOAD, () => {
              if (++acked === PER_CONNECTION) resolve();
              else more();
            });
          }
        };
        more();
      });
      await publisher.stop();
    }),
  );
}

/** CPU microseconds of this process per message, with or without the guard. */
async function round(guarded: boolean): Promise<number> {
  const aedes = await Aedes.createBroker({});
  const server = createServer((socket) => {
    aedes.handle(socket);
    if (!guarded) return;
    const guard = new PacketSizeGuard(LIMIT);
    const onData = (chunk: Buffer): void => {
      if (guard.scan(chunk)) socket.destroy();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const before = process.cpuUsage();
  const child = fork(fileURLToPath(import.meta.url), ['load', String(port)]);
  await new Promise((resolve) => child.once('exit', resolve));
  const cpu = process.cpuUsage(before);
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return (cpu.user + cpu.system) / (CONNECTIONS * PER_CONNECTION);
}

function scanCost(packetsPerChunk: number): number {
  const topic = Buffer.from('vigil/v1/bench/devices/cam-1/metrics');
  const body = Buffer.concat([
    Buffer.from([0, topic.length]),
    topic,
    Buffer.from([0, 1]),
    Buffer.from(PAYLOAD),
  ]);
  // Remaining Length in two bytes (MQTT 3.1.1 section 2.2.3): bodies of 128 to 16383 bytes.
  const packet = Buffer.concat([
    Buffer.from([0x32, (body.length % 128) | 0x80, Math.floor(body.length / 128)]),
    body,
  ]);
  const chunk = Buffer.concat(Array<Buffer>(packetsPerChunk).fill(packet));
  const guard = new PacketSizeGuard(LIMIT);
  const times = Math.ceil(2_000_000 / packetsPerChunk);
  for (let i = 0; i < times; i++) guard.scan(chunk);
  const started = process.hrtime.bigint();
  for (let i = 0; i < times; i++) guard.scan(chunk);
  return Number(process.hrtime.bigint() - started) / (times * packetsPerChunk);
}

async function main(): Promise<void> {
  const median = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  await round(false); // warm-up
  const figures = { without: [] as number[], with: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const guarded of i % 2 ? [true, false] : [false, true])
      figures[guarded ? 'with' : 'without'].push(await round(guarded));
  }
  const line = (name: string, values: number[]) =>
    `${name}: CPU per message ${median(values).toFixed(2)} us median (${values.map((v) => v.toFixed(2)).join(' ')})`;
  console.log(
    `Aedes, ${CONNECTIONS} connections x ${PER_CONNECTION} QoS 1 messages of ${PAYLOAD.length} bytes, ${ROUNDS} rounds each`,
  );
  console.log(line('without the guard', figures.without));
  console.log(line('with the guard   ', figures.with));
  console.log(`guard.scan alone: ${scanCost(1).toFixed(1)} ns per packet, one packet per chunk`);
  console.log(`guard.scan alone: ${scanCost(200).toFixed(1)} ns per packet, 200 packets per chunk`);
}

if (process.argv[2] === 'load') await load(Number(process.argv[3]));
else await main();
