/**
 * The refusals Aedes makes on its own, before any hook of ours runs: a topic too deep
 * or with a wildcard where none is allowed, a CONNECT of an unsupported protocol version,
 * a packet before CONNECT, a malformed packet. Aedes closes the connection and reports
 * only an Error on its clientError / connectionError event; this turns that into an
 * audit entry (what, which topic, why) so that every refusal is audited, not only the
 * ones our hooks make. Network errors (a reset, a timeout) are not refusals: null.
 * The TLS listener's refusals (a client certificate missing or from another CA) are
 * worded here too.
 */
import type { AuditAction } from './refusal-audit.js';

/** The packet Aedes was handling when it refused (mqtt-packet's shape, the fields read). */
export interface PacketInHand {
  cmd?: string;
  topic?: string;
  subscriptions?: { topic?: string }[];
  unsubscriptions?: string[];
}

export interface Refusal {
  action: AuditAction;
  topic: string | null;
  reason: string;
}

// Aedes 1.2's own refusals of a topic (lib/handlers/publish.js, lib/utils.js validateTopic).
const TOPIC_REFUSAL =
  /^(empty topic not allowed|[#+] is not allowed in PUBLISH|topic has too many levels|impossible to (SUBSCRIBE|UNSUBSCRIBE) to an empty topic|[#+] is only allowed in)/;

// CONNACK return codes Aedes sets itself (lib/handlers/connect.js), MQTT 3.1.1 section 3.2.2.3.
const CONNECT_REFUSALS: Record<number, string> = {
  1: 'unacceptable protocol version: this broker speaks MQTT 3.1.1 and 3.1, not MQTT 5; set the client to MQTT 3.1.1 (protocol version 4)',
  2: 'client identifier rejected (MQTT 3.1 allows at most 23 characters; use MQTT 3.1.1)',
  3: 'server unavailable: the broker could not check the credentials (see the broker log)',
  6: 'keep alive over the limit of this broker',
};

function levels(topic: string): number {
  let count = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 47) count++;
  return count;
}

function topicReason(message: string, topic: string | null, maxTopicLevels: number): string {
  if (message.startsWith('topic has too many levels') && topic !== null)
    return `topic of ${levels(topic)} levels over the limit of ${maxTopicLevels}`;
  // Wildcards: MQTT 3.1.1 section 4.7.1 (none in a PUBLISH topic, whole levels in a filter).
  return `invalid topic: ${message} (MQTT 3.1.1 section 4.7)`;
}

/** The filter of a SUBSCRIBE or UNSUBSCRIBE that Aedes refused: the first invalid one. */
function refusedFilter(packet: PacketInHand, maxTopicLevels: number): string | null {
  const filters =
    packet.cmd === 'subscribe'
      ? (packet.subscriptions ?? []).map((s) => s.topic ?? '')
      : (packet.unsubscriptions ?? []);
  const bad = filters.find(
    (f) =>
      f.length === 0 || levels(f) > maxTopicLevels || /[^/]#|#./.test(f) || /[^/]\+|\+[^/]/.test(f),
  );
  return bad ?? filters[0] ?? null;
}

/**
 * What Aedes refused, or null when `error` is not a refusal. `packet` is the packet it
 * was handling (its refusals are synchronous with the parse), `malformed` whether the
 * error came from the packet parser.
 */
export function refusalOf(
  error: Error & { errorCode?: number },
  packet: PacketInHand | null,
  malformed: boolean,
  maxTopicLevels: number,
): Refusal | null {
  const message = error.message;
  if (malformed)
    return {
      action: 'connect',
      topic: null,
      reason: `malformed packet: ${message} (MQTT 3.1.1 section 4.8: the connection is closed)`,
    };
  if (TOPIC_REFUSAL.test(message)) {
    if (packet?.cmd === 'publish') {
      const topic = packet.topic ?? null;
      return { action: 'publish', topic, reason: topicReason(message, topic, maxTopicLevels) };
    }
    const topic = packet ? refusedFilter(packet, maxTopicLevels) : null;
    return { action: 'subscribe', topic, reason: topicReason(message, topic, maxTopicLevels) };
  }
  if (typeof error.errorCode === 'number') {
    const reason = CONNECT_REFUSALS[error.errorCode];
    if (reason) return { action: 'connect', topic: null, reason };
  }
  if (message === 'Invalid protocol')
    return {
      action: 'connect',
      topic: null,
      reason: `${packet?.cmd?.toUpperCase() ?? 'a packet'} before CONNECT, or a second CONNECT (MQTT 3.1.1 [MQTT-3.1.0-1], [MQTT-3.1.0-2])`,
    };
  if (message === 'Client queue limit reached')
    return {
      action: 'connect',
      topic: null,
      reason: 'too many packets sent before the CONNECT was accepted',
    };
  // Refused after a storage round trip: the packet in hand may be a later one.
  if (message.startsWith('maxInflightInbound exceeded'))
    return { action: 'publish', topic: null, reason: message };
  return null;
}

/**
 * Why the TLS listener refused a handshake, in words an operator can act on; null when
 * the client gave up on its own (a reset, an alert: it did not trust our certificate).
 * `authorizationError` is Node's verdict on the client certificate (tls.TLSSocket): with
 * rejectUnauthorized, Node ends such a connection after the handshake without an alert.
 */
export function tlsRefusal(
  error: Error & { code?: string },
  authorizationError: string | undefined,
): string | null {
  const code = error.code ?? '';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE')
    return 'VIGIL_MQTT_CLIENT_CERT: TLS handshake refused: the client sent no certificate, and this listener requires one signed by mqtt.tls.ca (requireClientCert)';
  if (authorizationError)
    return `VIGIL_MQTT_CLIENT_CERT: TLS handshake refused: the client certificate is not signed by mqtt.tls.ca or is not valid (${authorizationError})`;
  // The client speaks no TLS, or none we accept (minVersion TLS 1.2).
  if (code.startsWith('ERR_SSL_') && !code.includes('_ALERT_'))
    return `TLS handshake refused: ${code} (a client using mqtt:// on the mqtts:// port, or TLS older than 1.2?)`;
  return null;
}
