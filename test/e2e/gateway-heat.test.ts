/**
 * The gateway overheating in the demo's own processes: `vigil demo` points the agent at
 * the temperature file the simulator writes; the simulator's gateway-hot fault heats it,
 * the agent's next health message carries the reading, and the broker opens the general
 * gateway-resources ticket naming the heat; cooling it down resolves the ticket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ticket } from '../../shared/api/tickets.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { eventually } from '../helpers/eventually.js';

/** The agent's health interval (30 s), with room for a busy machine. */
const HEALTH_WAIT_MS = 75_000;

describe('the demo gateway overheats and cools down', () => {
  let demo: RunningDemo;

  beforeAll(async () => {
    demo = await startDemo();
  });

  afterAll(async () => {
    await demo?.stop();
  });

  const gatewayTicket = async () =>
    (await demo.api<Ticket[]>('/api/tickets?status=open')).find(
      (t) => t.fault === 'degraded:gateway-resources',
    );

  it('opens a general ticket naming 92 °C and resolves it once cooled', async () => {
    const heated = await demo.sim('/sim/gateway/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'gateway-hot', temperatureC: 92 }),
    });
    expect(heated.status).toBe(201);
    const ticket = await eventually('the gateway-resources ticket', gatewayTicket, HEALTH_WAIT_MS);
    expect(ticket.priority).toBe('general');
    expect(ticket.title).toMatch(/overheating: temperature 92 °C \(limit 80 °C\)/);

    const cooled = await demo.sim('/sim/gateway/faults', { method: 'DELETE' });
    expect(cooled.status).toBe(200);
    await eventually(
      'the gateway ticket resolved',
      async () => ((await gatewayTicket()) ? undefined : true),
      HEALTH_WAIT_MS,
    );
  });
});
