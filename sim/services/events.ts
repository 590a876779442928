/**
 * The ONVIF event service (tev, ONVIF Core section 9): GetEventProperties,
 * CreatePullPointSubscription, and on the pull point PullMessages, Renew, Unsubscribe
 * (WS-BaseNotification, wsnt) and SetSynchronizationPoint. Shapes follow the captures
 * GetEventProperties.xml, events.CreatePullPointSubscription.xml and PullMessages.xml.
 */
import { parseDuration, TOPICS, TooManyPullPointsError, type EventMessage } from '../events.js';
import { formatDateTime, type Quirks } from '../personality.js';
import type { Operation, SoapService } from '../soap/dispatch.js';
import { SoapFaultError, type SoapFault } from '../soap/fault.js';
import { NS } from '../soap/namespaces.js';
import { escapeXml, textAt, type XmlElement } from '../soap/xml.js';
import { EVENTS_SERVICE_PATH, PULL_POINT_PATH, type ServiceContext } from './context.js';

type EventOperation = Operation<ServiceContext>;

const CONCRETE_SET = 'http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet';
/** Without InitialTerminationTime a pull point lives this long after its last use. */
const DEFAULT_KEEP_ALIVE_MS = 60_000;
/** ONVIF Core 9.1.2: a device may cap the pull timeout; real ones allow about a minute. */
const MAX_PULL_TIMEOUT_MS = 60_000;
const MAX_MESSAGE_LIMIT = 1000;

export function eventsServiceCapabilities(): string {
  return (
    '<tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" ' +
    'WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" ' +
    'MaxPullPoints="32" PersistentNotificationStorage="false"/>'
  );
}

function invalidArg(reason: string): SoapFault {
  return { code: 'Sender', subcodes: ['ter:InvalidArgVal'], reason };
}

/** A time asked for as a duration (PT60S) or an absolute xs:dateTime; ms from now. */
function requestedSpan(text: string | undefined, deviceNow: number): number | null {
  if (text === undefined || text === '') return null;
  const duration = parseDuration(text);
  if (duration !== null) return duration;
  const at = Date.parse(text);
  if (Number.isNaN(at)) {
    throw new SoapFaultError(invalidArg(`"${text}" is neither an xs:duration nor an xs:dateTime`));
  }
  return at - deviceNow;
}

export function messageXml(message: EventMessage, quirks: Quirks): string {
  const items = (list: [string, string][]) =>
    list
      .map(([name, value]) => `<tt:SimpleItem Name="${name}" Value="${escapeXml(value)}"/>`)
      .join('');
  return (
    '<wsnt:NotificationMessage>' +
    `<wsnt:Topic Dialect="${CONCRETE_SET}">${message.topic}</wsnt:Topic>` +
    '<wsnt:Message>' +
    `<tt:Message UtcTime="${formatDateTime(message.utcTime, quirks)}" PropertyOperation="${message.operation}">` +
    `<tt:Source>${items(message.source)}</tt:Source>` +
    `<tt:Data>${items(message.data)}</tt:Data>` +
    '</tt:Message></wsnt:Message>' +
    '</wsnt:NotificationMessage>'
  );
}

/** The TopicSet tree of GetEventProperties: one nested element per topic path step. */
function topicSet(): string {
  interface Node {
    children: Map<string, Node>;
    description?: string;
  }
  const root: Node = { children: new Map() };
  for (const topic of Object.values(TOPICS)) {
    const steps = topic.topic.replace(/^tns1:/, '').split('/');
    let node = root;
    for (const step of steps) {
      const next = node.children.get(step) ?? { children: new Map() };
      node.children.set(step, next);
      node = next;
    }
    const describe = (list: readonly (readonly [string, string])[]) =>
      list.map(([n, t]) => `<tt:SimpleItemDescription Name="${n}" Type="${t}"/>`).join('');
    node.description =
      '<tt:MessageDescription IsProperty="true">' +
      `<tt:Source>${describe(topic.source)}</tt:Source>` +
      `<tt:Data>${describe(topic.data)}</tt:Data>` +
      '</tt:MessageDescription>';
  }
  const render = (name: string, node: Node, top: boolean): string => {
    const tag = top ? `tns1:${name}` : name;
    const leaf = node.description !== undefined;
    const inner =
      (node.description ?? '') +
      [...node.children].map(([child, sub]) => render(child, sub, false)).join('');
    return `<${tag}${leaf ? ' wstop:topic="true"' : ''}>${inner}</${tag}>`;
  };
  return [...root.children].map(([name, node]) => render(name, node, true)).join('');
}

const getEventProperties: EventOperation = {
  name: 'GetEventProperties',
  access: 'user',
  handle: () =>
    '<tev:GetEventPropertiesResponse>' +
    '<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>' +
    '<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>' +
    `<wstop:TopicSet>${topicSet()}</wstop:TopicSet>` +
    `<wsnt:TopicExpressionDialect>${CONCRETE_SET}</wsnt:TopicExpressionDialect>` +
    '<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>' +
    '<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>' +
    '<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>' +
    '</tev:GetEventPropertiesResponse>',
};

function times(context: ServiceContext, terminationWall: number): string {
  const { deviceNow, clockOffsetMs, quirks } = context;
  return (
    `<wsnt:CurrentTime>${formatDateTime(deviceNow, quirks)}</wsnt:CurrentTime>` +
    `<wsnt:TerminationTime>${formatDateTime(terminationWall + clockOffsetMs, quirks)}</wsnt:TerminationTime>`
  );
}

const createPullPointSubscription: EventOperation = {
  name: 'CreatePullPointSubscription',
  access: 'user',
  handle: (request, context) => {
    const asked = requestedSpan(textAt(request, 'InitialTerminationTime'), context.deviceNow);
    const keepAlive = asked !== null && asked > 0 ? asked : DEFAULT_KEEP_ALIVE_MS;
    let point;
    try {
      // ONVIF Core 9.2.2: a new subscription first receives the current state.
      point = context.events.create(keepAlive, context.initialEvents());
    } catch (error) {
      if (!(error instanceof TooManyPullPointsError)) throw error;
      throw new SoapFaultError({
        code: 'Receiver',
        subcodes: ['ter:Action', 'ter:MaxPullPoints'],
        reason: error.message,
      });
    }
    const address = `${context.httpBase}${PULL_POINT_PATH}${point.id}`;
    return (
      '<tev:CreatePullPointSubscriptionResponse>' +
      `<tev:SubscriptionReference><wsa:Address>${escapeXml(address)}</wsa:Address></tev:SubscriptionReference>` +
      times(context, point.terminationTime) +
      '</tev:CreatePullPointSubscriptionResponse>'
    );
  },
};

const getServiceCapabilities: EventOperation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: () =>
    `<tev:GetServiceCapabilitiesResponse>${eventsServiceCapabilities()}</tev:GetServiceCapabilitiesResponse>`,
};

export const eventsService: SoapService<ServiceContext> = {
  path: EVENTS_SERVICE_PATH,
  namespace: NS.tev,
  operations: [getEventProperties, createPullPointSubscription, getServiceCapabilities],
};

/** The pull point the request's path names, or a fault a client understands. */
function pullPointOf(context: ServiceContext) {
  const id = context.path.slice(PULL_POINT_PATH.length);
  const point = context.events.get(id);
  if (!point) {
    throw new SoapFaultError(
      invalidArg(`no subscription "${id}": it expired or was removed; create a new one`),
    );
  }
  return point;
}

const pullMessages: EventOperation = {
  name: 'PullMessages',
  access: 'user',
  handle: async (request: XmlElement, context) => {
    const point = pullPointOf(context);
    const timeoutText = textAt(request, 'Timeout') ?? 'PT0S';
    const timeout = parseDuration(timeoutText);
    if (timeout === null) {
      throw new SoapFaultError(invalidArg(`Timeout "${timeoutText}" is not an xs:duration`));
    }
    const limit = Number(textAt(request, 'MessageLimit') ?? '100');
    if (!Number.isInteger(limit) || limit < 1) {
      throw new SoapFaultError(invalidArg('MessageLimit must be a positive integer'));
    }
    const messages = await context.events.pull(
      point,
      Math.min(limit, MAX_MESSAGE_LIMIT),
      Math.min(timeout, MAX_PULL_TIMEOUT_MS),
    );
    // The clock is read again: the answer leaves after the wait.
    const now = Date.now() + context.clockOffsetMs;
    return (
      '<tev:PullMessagesResponse>' +
      `<tev:CurrentTime>${formatDateTime(now, context.quirks)}</tev:CurrentTime>` +
      `<tev:TerminationTime>${formatDateTime(point.terminationTime + context.clockOffsetMs, context.quirks)}</tev:TerminationTime>` +
      messages.map((m) => messageXml(m, context.quirks)).join('') +
      '</tev:PullMessagesResponse>'
    );
  },
};

const renew: EventOperation = {
  name: 'Renew',
  ns: NS.wsnt,
  access: 'user',
  handle: (request, context) => {
    const point = pullPointOf(context);
    const asked = requestedSpan(textAt(request, 'TerminationTime'), context.deviceNow);
    const span = asked !== null && asked > 0 ? asked : point.keepAliveMs;
    point.terminationTime = Date.now() + span;
    return `<wsnt:RenewResponse>${times(context, point.terminationTime)}</wsnt:RenewResponse>`;
  },
};

const unsubscribe: EventOperation = {
  name: 'Unsubscribe',
  ns: NS.wsnt,
  access: 'user',
  handle: (_request, context) => {
    const point = pullPointOf(context);
    context.events.remove(point.id);
    return '<wsnt:UnsubscribeResponse/>';
  },
};

const setSynchronizationPoint: EventOperation = {
  name: 'SetSynchronizationPoint',
  access: 'user',
  handle: (_request, context) => {
    const point = pullPointOf(context);
    point.queue.push(...context.initialEvents());
    point.wake?.();
    return '<tev:SetSynchronizationPointResponse/>';
  },
};

export const pullPointService: SoapService<ServiceContext> = {
  path: PULL_POINT_PATH,
  namespace: NS.tev,
  operations: [pullMessages, renew, unsubscribe, setSynchronizationPoint],
};
