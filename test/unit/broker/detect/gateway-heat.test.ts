/**
 * The gateway's temperature in the gateway-resources rule (broker/detect/rules/
 * gateway-resources.ts): a problem at or above the limit, kept until it is the hysteresis
 * below it, never without a reading; said with the reading, the limit and what to do, in
 * English and in Chinese.
 */
import { describe, expect, it } from 'vitest';
import { ConditionTable } from '../../../../broker/detect/conditions.js';
import { defaultDetectConfig } from '../../../../broker/detect/config.js';
import {
  gatewayHot,
  gatewayProblems,
  gatewayResources,
  HEAT_UNREAD_REPORTS,
} from '../../../../broker/detect/rules/gateway-resources.js';
import { GATEWAY_RESOURCES, type DetectContext } from '../../../../broker/detect/rules/types.js';
import { resolveDeskConfig } from '../../../../broker/wiring/desk-config.js';
import { agentHealthExample, type AgentHealth } from '../../../../shared/messages/agent-health.js';
import { message, type GatewayProblem } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';

function at(temperatureC: number | undefined): AgentHealth {
  const { temperatureC: _, ...gateway } = agentHealthExample.gateway;
  return {
    ...agentHealthExample,
    gateway: temperatureC === undefined ? gateway : { ...gateway, temperatureC },
  };
}

const config = defaultDetectConfig;

/**
 * The rule itself with a real condition table, as the detector runs it: what it cleared
 * (agent, fault) and the site's open gateway condition.
 */
function desk() {
  const conditions = new ConditionTable();
  const cleared: [string | null, string][] = [];
  const d = {
    config,
    conditions,
    now: () => 1_700_000_000_000,
    clear: (condition) => {
      conditions.clear(condition.siteId, condition.deviceId, condition.fault);
      cleared.push([condition.agentId, condition.fault]);
    },
  } as Partial<DetectContext> as DetectContext;
  const open = () => conditions.get(agentHealthExample.siteId, null, GATEWAY_RESOURCES);
  return { d, rule: gatewayResources(), open, cleared };
}

describe('gateway heat', () => {
  it('is a problem from 80 °C by default, with the reading and the limit', () => {
    expect(config.gatewayTempC).toBe(80);
    expect(gatewayProblems(at(79.9), config)).toEqual([]);
    expect(gatewayProblems(at(80), config)).toEqual([
      { what: 'temperature', celsius: 80, limitC: 80 },
    ]);
    expect(gatewayProblems(at(92.4), config)).toEqual([
      { what: 'temperature', celsius: 92.4, limitC: 80 },
    ]);
  });

  it('once hot, stays hot until 5 °C below the limit, so it does not flap at the limit', () => {
    expect(gatewayHot(at(79), config, false)).toBe(false);
    expect(gatewayHot(at(79), config, true)).toBe(true);
    expect(gatewayHot(at(75.1), config, true)).toBe(true);
    expect(gatewayHot(at(75), config, true)).toBe(false);
    expect(gatewayProblems(at(77), config, config.gatewayCpuReports, true)).toEqual([
      { what: 'temperature', celsius: 77, limitC: 80 },
    ]);
  });

  it('never alerts a gateway that reports no temperature (many x86 boxes have no sensor)', () => {
    expect(gatewayHot(at(undefined), config, false)).toBe(false);
    expect(gatewayProblems(at(undefined), config, config.gatewayCpuReports, true)).toEqual([]);
  });

  it("a second gateway of the site in good health neither resolves nor feeds the first one's alert", () => {
    const { d, rule, open, cleared } = desk();
    const of = (agentId: string, temperatureC: number): AgentHealth => ({
      ...at(temperatureC),
      agentId,
    });
    rule.agentHealth?.(d, of('gw-01', 88));
    expect(open()?.agentId).toBe('gw-01');
    rule.agentHealth?.(d, of('gw-02', 40));
    rule.agentHealth?.(d, of('gw-02', 41));
    expect(open()?.agentId).toBe('gw-01');
    expect(cleared).toEqual([]);
    rule.agentHealth?.(d, of('gw-01', 60));
    expect(open()).toBeUndefined();
    expect(cleared).toEqual([['gw-01', GATEWAY_RESOURCES]]);
  });

  it('takes a message without a reading for unknown: it keeps the last state, for a while', () => {
    expect(gatewayHot(at(undefined), config, true)).toBe(true);
    // The rule itself, with the real condition table: hot, then one message without a
    // reading (a thermal zone answering EAGAIN while the SoC throttles), then hot again.
    const { d, rule, open, cleared } = desk();
    rule.agentHealth?.(d, at(84));
    const raised = open();
    expect(raised).toBeDefined();
    rule.agentHealth?.(d, at(undefined));
    expect(open()).toBe(raised); // not resolved, not raised again
    expect(cleared).toEqual([]);
    // The hysteresis is not forgotten either: 77 °C after the gap is still hot.
    rule.agentHealth?.(d, at(77));
    expect(open()).toBe(raised);
    // A sensor gone for good ends the alert after HEAT_UNREAD_REPORTS messages.
    for (let i = 0; i < HEAT_UNREAD_REPORTS; i++) rule.agentHealth?.(d, at(undefined));
    expect(open()).toBe(raised);
    rule.agentHealth?.(d, at(undefined));
    expect(open()).toBeUndefined();
    expect(cleared).toHaveLength(1);
    // A reading below the hysteresis resolves at once.
    rule.agentHealth?.(d, at(90));
    expect(open()).toBeDefined();
    rule.agentHealth?.(d, at(70));
    expect(open()).toBeUndefined();
  });

  it('takes its limit and hysteresis from the broker config', () => {
    const detect = resolveDeskConfig({
      detect: { gatewayTempC: 70, gatewayTempHysteresisC: 2 },
    }).detect;
    expect(gatewayProblems(at(71), detect)).toEqual([
      { what: 'temperature', celsius: 71, limitC: 70 },
    ]);
    expect(gatewayHot(at(68.5), detect, true)).toBe(true);
    expect(gatewayHot(at(68), detect, true)).toBe(false);
  });

  it('says the reading, the limit and what to do, in English and in Chinese', () => {
    const hot: GatewayProblem[] = [{ what: 'temperature', celsius: 92, limitC: 80 }];
    const title = message('title.gateway-resources', { agent: 'gw-01', problems: hot });
    const detected = message('detected.gateway-resources', { problems: hot });
    expect(say(title)).toBe('Site gateway gw-01 is overheating: temperature 92 °C (limit 80 °C)');
    expect(say(title, 'zh-CN')).toBe('站点采集网关 gw-01 温度过高：温度 92 °C（上限 80 °C）');
    expect(say(detected)).toMatch(
      /^Gateway overheating: 92 °C, its limit is 80 °C\. Check its ventilation on site: .*dust.*sun/,
    );
    expect(say(detected, 'zh-CN')).toMatch(
      /^采集网关温度过高：92 °C，超过上限 80 °C。请到现场检查通风：.*积尘.*阳光直射/,
    );
  });

  it('names both when the gateway is short of resources and hot', () => {
    const both: GatewayProblem[] = [
      { what: 'memory', pct: 97 },
      { what: 'temperature', celsius: 81.26, limitC: 80 },
    ];
    expect(say(message('title.gateway-resources', { agent: 'gw-01', problems: both }))).toBe(
      'Site gateway gw-01 is low on resources and overheating: memory 97 % used, temperature 81.3 °C (limit 80 °C)',
    );
    expect(
      say(message('title.gateway-resources', { agent: 'gw-01', problems: both }), 'zh-CN'),
    ).toBe('站点采集网关 gw-01 资源不足且温度过高：内存已用 97%，温度 81.3 °C（上限 80 °C）');
    expect(say(message('detected.gateway-resources', { problems: both }))).toMatch(
      /^Gateway resources low: memory 97 % used\. Gateway overheating: 81\.3 °C/,
    );
    // Without heat, the words are those the API and webhooks always carried.
    expect(
      say(message('detected.gateway-resources', { problems: [{ what: 'disk', pct: 98 }] })),
    ).toBe('Gateway resources low: disk 98 % used');
  });
});
