import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Header, PayloadVersion } from './common.js';
import { Fingerprint } from './device-state.js';

/**
 * Remote commands from the NOC to one agent, on vigil/v1/{site}/agents/{agent}/commands
 * (only the broker publishes there; the agent subscribes), and the agent's answer on
 * .../responses with the same `id`. Commands are QoS 1 and may arrive twice (MQTT 3.1.1
 * section 4.3.2): each is idempotent, and the agent answers a repeated id again.
 */
export const CommandName = Type.Union([
  /** Poll one device (deviceId) or every device now, outside its schedule. */
  Type.Literal('poll-now'),
  /** Run WS-Discovery on the site's network and list what answers. */
  Type.Literal('rediscover'),
  /** The agent's current configuration, without any secret. */
  Type.Literal('report-config'),
  /**
   * Accept the certificate an HTTPS device (deviceId) now presents in place of the pinned
   * one (`fingerprint`: the presented one the operator saw; the agent refuses if the
   * device presents another by then).
   */
  Type.Literal('trust-certificate'),
]);

export const AgentCommand = Type.Object(
  {
    v: PayloadVersion,
    /** Chosen by the sender; the response carries it back. */
    id: Type.String({ minLength: 1, maxLength: 64 }),
    ts: Timestamp,
    command: CommandName,
    deviceId: Type.Optional(Id),
    /** trust-certificate: the SHA-256 fingerprint to accept (AB:CD:...). */
    fingerprint: Type.Optional(Fingerprint),
    /** Who asked (a NOC user name), for the agent's log. */
    by: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const AgentCommandResponse = Type.Object(
  {
    ...Header,
    commandId: Type.String({ minLength: 1, maxLength: 64 }),
    command: CommandName,
    ok: Type.Boolean(),
    /** Why the command failed, in words for the NOC operator. */
    error: Type.Optional(Type.String({ maxLength: 1000 })),
    /** What the command found: per command, see agent/commands.ts. */
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type CommandName = Static<typeof CommandName>;
export type AgentCommand = Static<typeof AgentCommand>;
export type AgentCommandResponse = Static<typeof AgentCommandResponse>;

export const agentCommandExample: AgentCommand = {
  v: 1,
  id: 'c-7f3a9b',
  ts: '2026-11-26T09:10:00.000Z',
  command: 'poll-now',
  deviceId: 'cam-01',
  by: 'noc-operator',
};

export const agentCommandResponseExample: AgentCommandResponse = {
  v: 1,
  siteId: 'demo-site',
  agentId: 'gw-01',
  seq: 120,
  ts: '2026-11-26T09:10:00.412Z',
  commandId: 'c-7f3a9b',
  command: 'poll-now',
  ok: true,
  result: { polled: [{ deviceId: 'cam-01', status: 'up' }] },
};
