/**
 * A hot gateway through the broker's own pipeline and the real ticket desk (SQLite, a clock
 * the test moves): one general site ticket naming the heat, kept open while the gateway
 * cools by less than the hysteresis (across a broker restart too), resolved below it; a
 * gateway without a temperature never gets one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentHealthExample, type AgentHealth } from '../../../../shared/messages/agent-health.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';
import { makeDesk, type DeskFixture } from './desk-fixture.js';

function at(temperatureC: number | undefined): AgentHealth {
  const gateway = { cpuLoadPct: 10, memUsedPct: 40, diskUsedPct: 30 };
  return {
    ...agentHealthExample,
    gateway: temperatureC === undefined ? gateway : { ...gateway, temperatureC },
  };
}

describe('gateway heat on the ticket desk', () => {
  let f: DeskFixture;
  afterEach(async () => {
    await f?.cleanup();
  });

  it('opens a general site ticket naming the heat, keeps it within the hysteresis, resolves it cooler', async () => {
    f = await makeDesk();
    f.health(at(70));
    expect(await f.open()).toEqual([]);
    f.health(at(92));
    const ticket = (await f.open())[0];
    if (!ticket) throw new Error('no ticket opened for a gateway at 92 °C');
    expect(ticket).toMatchObject({
      fault: 'degraded:gateway-resources',
      deviceId: null,
      priority: 'general',
      title: 'Site gateway gw-01 is overheating: temperature 92 °C (limit 80 °C)',
    });
    expect(say(ticket.titleMessage as Message, 'zh-CN')).toBe(
      '站点采集网关 gw-01 温度过高：温度 92 °C（上限 80 °C）',
    );
    expect(ticket.timeline[0]?.text).toMatch(/ventilation on site/);

    // Cooler, but not by 5 °C below the limit: still hot, the same ticket stays open.
    f.health(at(78));
    expect((await f.open()).map((t) => t.id)).toEqual([ticket.id]);
    // A broker restart forgets the rule's memory; the open condition still says it was heat.
    await f.restart();
    f.health(at(76));
    expect((await f.open()).map((t) => t.id)).toEqual([ticket.id]);
    f.health(at(74.5));
    expect(await f.open()).toEqual([]);
    const resolved = (await f.all())[0];
    expect(resolved?.status).toBe('resolved');
    expect(resolved?.timeline.at(-1)?.text).toMatch(/not overheating/);
    // Below the limit and not hot before: no ticket.
    f.health(at(79));
    expect(await f.open()).toEqual([]);
  });

  it('never opens one for a gateway that reports no temperature', async () => {
    f = await makeDesk();
    f.health(at(undefined));
    f.health(at(undefined));
    expect(await f.open()).toEqual([]);
  });
});
