import type { Server } from 'node:net';

/**
 * Starts `server` listening and returns the bound port (port 0 = a free one). A port in
 * use becomes an error that names the server and the option that picks another port.
 */
export async function listen(
  server: Server,
  host: string,
  port: number,
  what: string,
  otherPort: string,
): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(
      `sim: the ${what} cannot listen on ${host}:${port}: the port is in use; choose another with ${otherPort}`,
    );
  });
  const address = server.address();
  return address && typeof address === 'object' ? address.port : port;
}
