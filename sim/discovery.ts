/**
 * WS-Discovery for the site (ONVIF Core section 7.3, WS-Discovery 2005/04): one UDP
 * socket answers a Probe with one ProbeMatch message per matching device (as
 * node-onvif and onvif-util read only the first match of a message), unicast to the
 * prober's address and port; Hello when a device comes up, Bye when it stops.
 * Address and port are settable so tests can probe it on loopback.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { NS } from './soap/namespaces.js';
import { child, escapeXml, parseXml, textAt, XmlSyntaxError } from './soap/xml.js';

export const DISCOVERY_MULTICAST = '239.255.255.250';
export const DISCOVERY_PORT = 3702;

/** What discovery needs to know of a device. */
export interface Discoverable {
  id: string;
  kind: 'camera' | 'nvr';
  name: string;
  xaddr: string;
  hardware: string;
  serialNumber: string;
  /** The device answers on the network now (offline, rebooting and hung devices do not). */
  reachable: boolean;
}

export interface DiscoveryOptions {
  /** Address the socket binds; 0.0.0.0 to hear multicast probes. */
  address: string;
  port: number;
  /** Join 239.255.255.250 (needed for real clients; not on loopback). */
  multicast: boolean;
  /** Where Hello and Bye go; default the multicast group on `port`. */
  announceTo?: { address: string; port: number };
  devices(): Discoverable[];
}

const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
const DISCOVERY_URN = 'urn:schemas-xmlsoap-org:ws:2005:04:discovery';

/** A stable endpoint reference (urn:uuid) per device, from its serial number. */
export function endpointOf(device: Discoverable): string {
  const hex = createHash('sha1')
    .update(`vigil-sim:${device.id}:${device.serialNumber}`)
    .digest('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function scopes(device: Discoverable): string {
  const name = encodeURIComponent(device.name);
  const list = [
    'onvif://www.onvif.org/type/video_encoder',
    'onvif://www.onvif.org/type/Network_Video_Transmitter',
    'onvif://www.onvif.org/Profile/Streaming',
    'onvif://www.onvif.org/Profile/T',
    ...(device.kind === 'nvr'
      ? ['onvif://www.onvif.org/Profile/G', 'onvif://www.onvif.org/type/Network_Video_Storage']
      : []),
    `onvif://www.onvif.org/name/${name}`,
    `onvif://www.onvif.org/hardware/${encodeURIComponent(device.hardware)}`,
    `onvif://www.onvif.org/location/${name}`,
  ];
  return list.join(' ');
}

function envelope(header: string, body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<env:Envelope xmlns:env="${NS.env}" xmlns:wsa="${NS.wsa2004}" xmlns:d="${NS.wsd}" ` +
    `xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">` +
    `<env:Header>${header}</env:Header><env:Body>${body}</env:Body></env:Envelope>`
  );
}

function deviceBlock(device: Discoverable, withXAddrs = true): string {
  return (
    `<wsa:EndpointReference><wsa:Address>${endpointOf(device)}</wsa:Address></wsa:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${escapeXml(scopes(device))}</d:Scopes>` +
    (withXAddrs ? `<d:XAddrs>${escapeXml(device.xaddr)}</d:XAddrs>` : '') +
    '<d:MetadataVersion>1</d:MetadataVersion>'
  );
}

export function probeMatch(device: Discoverable, relatesTo: string, sequence: string): string {
  return envelope(
    `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
      `<wsa:RelatesTo>${escapeXml(relatesTo)}</wsa:RelatesTo>` +
      `<wsa:To>${ANONYMOUS}</wsa:To>` +
      `<wsa:Action>${NS.wsd}/ProbeMatches</wsa:Action>` +
      sequence,
    `<d:ProbeMatches><d:ProbeMatch>${deviceBlock(device)}</d:ProbeMatch></d:ProbeMatches>`,
  );
}

/** The Types a Probe asks for, by local name; empty: any device (WS-Discovery 5.1). */
function askedTypes(types: string): string[] {
  return types
    .split(/\s+/)
    .filter(Boolean)
    .map((qname) => qname.slice(qname.indexOf(':') + 1));
}

const OUR_TYPES = new Set(['NetworkVideoTransmitter', 'Device']);

export class DiscoveryResponder {
  private readonly options: DiscoveryOptions;
  private socket: Socket | null = null;
  private readonly instanceId = Math.floor(Date.now() / 1000);
  private messageNumber = 0;

  constructor(options: DiscoveryOptions) {
    this.options = options;
  }

  /** The bound port (for tests that bind port 0). */
  get port(): number {
    const address = this.socket?.address();
    return address ? address.port : 0;
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('message', (message, remote) => this.onMessage(message, remote));
    socket.on('error', (error) => console.error('sim: WS-Discovery socket error:', error.message));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, this.options.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    if (this.options.multicast) {
      try {
        socket.addMembership(DISCOVERY_MULTICAST);
        socket.setMulticastTTL(1);
      } catch (error) {
        console.error(
          `sim: WS-Discovery cannot join ${DISCOVERY_MULTICAST} (${(error as Error).message}); ` +
            'only unicast probes will be answered',
        );
      }
    }
    this.socket = socket;
    for (const device of this.options.devices()) if (device.reachable) void this.hello(device);
  }

  async stop(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    // The Byes must leave before the socket closes.
    await Promise.all(this.options.devices().map((device) => this.bye(device)));
    this.socket = null;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** WS-Discovery 4.1: Hello when a device joins the network. */
  hello(device: Discoverable): Promise<void> {
    return this.announce('Hello', `<d:Hello>${deviceBlock(device)}</d:Hello>`);
  }

  /** WS-Discovery 4.2: Bye when a device leaves in an orderly way. */
  bye(device: Discoverable): Promise<void> {
    return this.announce(
      'Bye',
      `<d:Bye><wsa:EndpointReference><wsa:Address>${endpointOf(device)}</wsa:Address></wsa:EndpointReference></d:Bye>`,
    );
  }

  private sequence(): string {
    this.messageNumber += 1;
    return `<d:AppSequence InstanceId="${this.instanceId}" MessageNumber="${this.messageNumber}"/>`;
  }

  private announce(action: string, body: string): Promise<void> {
    const socket = this.socket;
    if (!socket) return Promise.resolve();
    const target = this.options.announceTo ?? {
      address: DISCOVERY_MULTICAST,
      port: this.options.port || DISCOVERY_PORT,
    };
    const xml = envelope(
      `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
        `<wsa:To>${DISCOVERY_URN}</wsa:To>` +
        `<wsa:Action>${NS.wsd}/${action}</wsa:Action>` +
        this.sequence(),
      body,
    );
    return new Promise((resolve) => socket.send(xml, target.port, target.address, () => resolve()));
  }

  private onMessage(message: Buffer, remote: RemoteInfo): void {
    let root;
    try {
      root = parseXml(message.toString('utf8'));
    } catch (error) {
      if (error instanceof XmlSyntaxError) return;
      throw error;
    }
    const body = child(root, 'Body', NS.env);
    const probe = body && child(body, 'Probe', NS.wsd);
    if (!probe) return;
    const header = child(root, 'Header', NS.env);
    const messageId = (header && textAt(header, 'MessageID')) ?? '';
    const types = askedTypes(textAt(probe, 'Types') ?? '');
    if (!types.every((t) => OUR_TYPES.has(t))) return;
    for (const device of this.options.devices()) {
      if (!device.reachable) continue;
      const xml = probeMatch(device, messageId, this.sequence());
      this.socket?.send(xml, remote.port, remote.address, () => undefined);
    }
  }
}
