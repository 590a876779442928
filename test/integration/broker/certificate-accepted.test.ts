/**
 * A changed HTTPS certificate through the real broker (MQTT, journal, pipeline, SQLite,
 * HTTP API), with an mqtt.js client standing in for the agent: the certificate-changed
 * state opens a general ticket (not an emergency: the device works, we refuse it) naming
 * the device and both fingerprints in English and Chinese; an operator accepts the new
 * certificate with the command route, the agent's answer comes back, the acceptance is a
 * row of the audit trail (who, device, previous and accepted fingerprints), and the agent's
 * next state resolves the ticket. A viewer may not accept. An agent that does not answer in
 * time is audited as an unknown outcome, never as a refusal (it may still accept).
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningBroker } from '../../../broker/app.js';
import type { AuditEntry } from '../../../shared/api/audit.js';
import { commandPath } from '../../../shared/api/commands.js';
import type { Ticket } from '../../../shared/api/tickets.js';
import type { AgentCommand } from '../../../shared/messages/agent-command.js';
import {
  deviceStateExample,
  type DeviceState,
  type Reason,
} from '../../../shared/messages/device-state.js';
import { topics } from '../../../shared/topics.js';
import type { Message } from '../../../shared/wording/messages.js';
import { say } from '../../../shared/wording/render.js';
import { connectAgent, loginToken, startTestBroker } from '../../helpers/broker.js';
import { eventually } from '../../helpers/eventually.js';

const SITE = 'site-a';
const AGENT = 'gw-01';
const CAMERA = 'cam-01';
const pinned = `${'AB:'.repeat(31)}01`;
const presented = `${'7F:'.repeat(31)}02`;
/** A fingerprint the stand-in agent leaves unanswered (offline, or busy past the wait). */
const unanswered = `${'5A:'.repeat(31)}03`;
const changed: Reason = {
  code: 'certificate-changed',
  message: `the device presents another HTTPS certificate than the one pinned: pinned SHA-256 ${pinned}, presented ${presented}`,
  certificate: { pinned, presented },
};

let broker: RunningBroker;
let agent: MqttClient;
let token = '';
let seq = 0;

async function publishState(status: DeviceState['status'], reasons: Reason[]): Promise<void> {
  const ts = new Date().toISOString();
  const state: DeviceState = {
    ...deviceStateExample,
    siteId: SITE,
    agentId: AGENT,
    seq: seq++,
    ts,
    deviceId: CAMERA,
    name: 'Gate',
    xaddr: 'https://192.0.2.11/onvif/device_service',
    status,
    since: ts,
    reasons,
  };
  await agent.publishAsync(topics.deviceState(SITE, CAMERA), JSON.stringify(state), { qos: 1 });
  await broker.pipeline.idle();
}

function api(path: string, init: RequestInit = {}, bearer = token): Promise<Response> {
  return fetch(`${broker.httpUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      ...(init.headers ?? {}),
    },
  });
}

const certificateTickets = async () =>
  ((await (await api('/api/tickets?status=all')).json()) as Ticket[]).filter(
    (t) => t.deviceId === CAMERA && t.fault === 'degraded:certificate-changed',
  );

beforeAll(async () => {
  broker = await startTestBroker();
  token = await loginToken(broker);
  agent = await connectAgent(broker, await broker.agents.add(SITE, AGENT));
  // The agent's side of trust-certificate: answer, then report the device up again.
  await agent.subscribeAsync(topics.agentCommands(SITE, AGENT), { qos: 1 });
  agent.on('message', (_topic, payload) => {
    const command = JSON.parse(payload.toString('utf8')) as AgentCommand;
    if (command.fingerprint === unanswered) return;
    const accepted = command.fingerprint === presented;
    const answer = {
      v: 1,
      siteId: SITE,
      agentId: AGENT,
      seq: seq++,
      ts: new Date().toISOString(),
      commandId: command.id,
      command: command.command,
      ok: accepted,
      ...(accepted
        ? {
            result: {
              trusted: { deviceId: CAMERA, previous: pinned, accepted: presented, status: 'up' },
            },
          }
        : { error: `device ${CAMERA} now presents ${presented}, not ${command.fingerprint}` }),
    };
    void (async () => {
      if (accepted) await publishState('up', []);
      await agent.publishAsync(topics.agentResponses(SITE, AGENT), JSON.stringify(answer), {
        qos: 1,
      });
    })();
  });
  await publishState('up', []);
  await publishState('degraded', [changed]);
});

afterAll(async () => {
  await agent?.endAsync(true);
  await broker?.stop();
});

it('opens a general ticket naming both fingerprints; accepted by an operator, audited, it resolves', async () => {
  const [ticket] = await eventually('the certificate ticket', async () => {
    const found = await certificateTickets();
    return found.length > 0 ? found : null;
  });
  expect(ticket).toMatchObject({ priority: 'general', status: 'open' });
  expect(ticket?.title).toBe('Camera "Gate" (cam-01): certificate changed');
  const detected = ticket?.timeline[0];
  expect(detected?.text).toContain(`Pinned SHA-256 ${pinned}; presented ${presented}`);
  const chinese = say(detected?.message as Message, 'zh-CN');
  expect(chinese).toContain(pinned);
  expect(chinese).toContain(presented);

  // A viewer may not accept a certificate.
  await fetch(`${broker.httpUrl}/api/users/watcher`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'viewer', password: 'viewer-password' }),
  });
  const viewer = await loginToken(broker, 'viewer-password', 'watcher');
  const body = (fingerprint: string) =>
    JSON.stringify({ command: 'trust-certificate', deviceId: CAMERA, fingerprint });
  const refused = await api(
    commandPath(SITE, AGENT),
    { method: 'POST', body: body(presented) },
    viewer,
  );
  expect(refused.status).toBe(403);

  const answer = await api(commandPath(SITE, AGENT), { method: 'POST', body: body(presented) });
  expect(answer.status).toBe(200);
  expect(await answer.json()).toMatchObject({
    ok: true,
    result: { trusted: { previous: pinned, accepted: presented } },
  });
  await eventually('the certificate ticket resolved', async () =>
    (await certificateTickets()).every((t) => t.status === 'resolved'),
  );

  const audit = (await (
    await api(`/api/audit?target=${encodeURIComponent(`device:${SITE}/${CAMERA}`)}`)
  ).json()) as AuditEntry[];
  expect(audit.map((a) => [a.actor, a.action])).toEqual([['admin', 'device.trust-certificate']]);
  expect(JSON.parse(audit[0]?.detail ?? '{}')).toEqual({
    agent: AGENT,
    fingerprint: presented,
    previous: pinned,
    ok: true,
  });
});

it('audits an acceptance the agent did not answer in time as an unknown outcome, not a refusal', async () => {
  const answer = await api(commandPath(SITE, AGENT), {
    method: 'POST',
    body: JSON.stringify({
      command: 'trust-certificate',
      deviceId: CAMERA,
      fingerprint: unanswered,
      waitS: 1,
    }),
  });
  expect(answer.status).toBe(504);
  const audit = (await (
    await api(`/api/audit?target=${encodeURIComponent(`device:${SITE}/${CAMERA}`)}`)
  ).json()) as AuditEntry[];
  const details = audit.map((a) => JSON.parse(a.detail) as Record<string, unknown>);
  const row = details.find((d) => d.fingerprint === unanswered);
  expect(row).toMatchObject({ agent: AGENT, fingerprint: unanswered, outcome: 'unknown' });
  expect(row).not.toHaveProperty('ok');
});
