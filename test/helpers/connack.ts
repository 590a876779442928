/**
 * What a broker answers to a CONNECT, as a plain mqtt.js client sees it: 0 accepted, else
 * the CONNACK return code of the refusal (MQTT 3.1.1 section 3.2.2.3: 3 server
 * unavailable, a standby of a pair; 4 bad username or password; 5 not authorized), or -1
 * when the connection closed without a CONNACK. The client is closed again.
 */
import { connect } from 'mqtt';

export async function connackOf(
  url: string,
  credentials: { username: string; password: string },
  timeoutMs = 10_000,
): Promise<number> {
  const client = connect(url, {
    username: credentials.username,
    password: credentials.password,
    clientId: credentials.username,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
  });
  try {
    return await new Promise<number>((resolve) => {
      client.once('connect', () => resolve(0));
      client.once('error', (error: Error & { code?: number }) =>
        resolve(typeof error.code === 'number' ? error.code : -1),
      );
      client.once('close', () => resolve(-1));
    });
  } finally {
    await client.endAsync(true);
  }
}
