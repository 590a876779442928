/**
 * What console and internal accounts may do (agents: ./topic-rights.ts). Least privilege here
 * too: the console only reads (the topic tree and the broker's $SYS figures); an
 * internal NOC service reads everything and writes only agent commands.
 */
import { parseTopic, TOPIC_ROOT } from '../../shared/topics.js';
import type { AgentIdentity } from '../agents/store.js';
import type { Decision } from './topic-rights.js';

const allow: Decision = { allowed: true };
const deny = (reason: string): Decision => ({ allowed: false, reason });

/** A filter inside the tree or under $SYS (MQTT 3.1.1 section 4.7: wildcards allowed). */
function readable(filter: string): boolean {
  return (
    filter === '#' ||
    filter === `${TOPIC_ROOT}/#` ||
    filter.startsWith(`${TOPIC_ROOT}/`) ||
    filter === '$SYS/#' ||
    filter.startsWith('$SYS/')
  );
}

export function clientMayPublish(client: AgentIdentity, topic: string): Decision {
  if (client.role === 'internal') {
    return parseTopic(topic)?.kind === 'agentCommands'
      ? allow
      : deny('an internal account publishes agent commands only');
  }
  return deny(`a ${client.role ?? 'agent'} account may not publish`);
}

export function clientMaySubscribe(client: AgentIdentity, filter: string): Decision {
  if (client.role === 'internal' || client.role === 'console') {
    // "#" alone would match the $SYS tree only by name in Aedes; be explicit instead.
    return readable(filter) && filter !== '#'
      ? allow
      : deny(`subscribe to ${TOPIC_ROOT}/... or $SYS/... filters`);
  }
  return deny('not a console or internal account');
}
