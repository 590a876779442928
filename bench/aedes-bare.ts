/**
 * The bare-library peer of bench:broker: Aedes 1.2 on a TCP port with its in-memory
 * persistence and no hooks at all (no authentication, no authorization, no journal, no
 * pipeline). What it costs per message is the floor any broker built on Aedes and Node
 * pays, so bench:broker can split Vigil's figure into "the library" and "our ingest".
 * It imports Aedes directly on purpose: it measures the library, not our adapter.
 *
 * Run by bench:broker as a child process; prints its port on stdout once listening.
 */
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';

async function main(): Promise<void> {
  const aedes = await Aedes.createBroker({});
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  process.once('SIGTERM', () => {
    server.close();
    aedes.close(() => process.exit(0));
  });
}

void main();
