import { describe, expect, it } from 'vitest';
import { decodeStage } from '../../../../broker/stages/decode.js';
import { validateStage } from '../../../../broker/stages/validate.js';
import { deviceStateExample } from '../../../../shared/messages/device-state.js';
import { topics } from '../../../../shared/topics.js';
import { context, envelope, healthMessage, metricsMessage, stateMessage } from './fixtures.js';

const decode = decodeStage();
const validate = validateStage();

async function run(env: ReturnType<typeof envelope>) {
  const ctx = context(env);
  let result = await decode.run(ctx);
  if (result === 'continue') result = await validate.run(ctx);
  return { ctx, result };
}

describe('decode', () => {
  it('parses the topic and the JSON payload', async () => {
    const ctx = context(stateMessage());
    expect(await decode.run(ctx)).toBe('continue');
    expect(ctx.topic).toEqual({ kind: 'deviceState', siteId: 'demo-site', deviceId: 'cam-01' });
    expect(ctx.raw).toEqual(deviceStateExample);
  });

  it('refuses a topic outside the tree and a payload that is not JSON', async () => {
    const outside = context(envelope('vigil/v1/demo-site/devices/cam-01/colour', {}));
    expect(await decode.run(outside)).toBe('stop');
    expect(outside.rejection).toMatch(/topic tree/);

    const notJson = context(envelope(topics.deviceState('demo-site', 'cam-01'), '{"status": down'));
    expect(await decode.run(notJson)).toBe('stop');
    expect(notJson.rejection).toMatch(/^the payload is not JSON/);
  });

  it('stops quietly on an empty payload (a retained message being cleared)', async () => {
    const ctx = context(envelope(topics.deviceState('demo-site', 'cam-01'), ''));
    expect(await decode.run(ctx)).toBe('stop');
    expect(ctx.rejection).toBeUndefined();
  });
});

describe('validate', () => {
  it('passes every kind an agent publishes', async () => {
    for (const env of [stateMessage(), metricsMessage(), healthMessage()]) {
      const { ctx, result } = await run(env);
      expect(ctx.rejection, env.topic).toBeUndefined();
      expect(result).toBe('continue');
      expect(ctx.message?.kind).toBe(ctx.topic?.kind);
    }
  });

  it('refuses a payload that does not match its schema, listing every error', async () => {
    const { ctx, result } = await run(stateMessage({ status: 'on fire' as never, seq: -1 }));
    expect(result).toBe('stop');
    expect(ctx.rejection).toMatch(/^deviceState does not match its schema: /);
    expect(ctx.rejection).toMatch(/status: /);
    expect(ctx.rejection).toMatch(/seq: must be >= 0/);
    expect(ctx.message).toBeUndefined();
  });

  it('refuses a payload whose ids differ from its topic', async () => {
    const state = { ...deviceStateExample, deviceId: 'cam-02' };
    const { ctx } = await run(envelope(topics.deviceState('demo-site', 'cam-01'), state));
    expect(ctx.rejection).toMatch(/deviceId: "cam-02" differs from the topic's device "cam-01"/);
  });

  it('refuses a payload in the name of another agent than the one that published it', async () => {
    const { ctx } = await run(stateMessage({ agentId: 'gw-02' }));
    expect(ctx.rejection).toMatch(/agentId: "gw-02" is not the publishing agent "gw-01"/);
  });

  it('refuses commands: no agent publishes them', async () => {
    const { ctx } = await run(
      envelope(topics.agentCommands('demo-site', 'gw-01'), { do: 'reboot' }),
    );
    expect(ctx.rejection).toMatch(/no agent publishes agentCommands/);
  });
});
