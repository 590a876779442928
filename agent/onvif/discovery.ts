/**
 * WS-Discovery Probe (ONVIF Core 7.3, WS-Discovery 2005/04 section 5.2): one Probe for
 * dn:NetworkVideoTransmitter sent to the multicast group 239.255.255.250:3702 (or to an
 * address and port of choice: tests probe the simulator on loopback), and every
 * ProbeMatch that comes back within the wait, whichever socket it comes from. Unlike
 * node-onvif, every ProbeMatch of a message is read, and several XAddrs per device are
 * kept (some HTTPS or link-local: the first http:// one is preferred).
 */
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { child, children, parseXml, textOf } from './soap.js';

export const DISCOVERY_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;

export interface DiscoveredDevice {
  /** The endpoint reference (urn:uuid:...): stable across address changes. */
  endpoint: string;
  /** The device service address to use (the first http:// one). */
  xaddr: string;
  xaddrs: string[];
  scopes: string[];
  /** From the onvif://www.onvif.org/name/ and /hardware/ scopes, when present. */
  name: string | null;
  hardware: string | null;
}

export interface ProbeOptions {
  address?: string;
  port?: number;
  /** How long to collect answers. */
  waitMs?: number;
}

function probeMessage(id: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header><a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    `<a:MessageID>uuid:${id}</a:MessageID>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To></s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>'
  );
}

function scopeValue(scopes: string[], kind: string): string | null {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const found = scopes.find((s) => s.startsWith(prefix));
  if (!found) return null;
  try {
    return decodeURIComponent(found.slice(prefix.length));
  } catch {
    return found.slice(prefix.length);
  }
}

/** The devices of one ProbeMatches message (all of them, not only the first). */
export function parseProbeMatches(xml: string): DiscoveredDevice[] {
  const body = child(child(parseXml(xml), 'Envelope'), 'Body');
  const out: DiscoveredDevice[] = [];
  for (const match of children(child(body, 'ProbeMatches'), 'ProbeMatch')) {
    const endpoint = textOf(child(child(match, 'EndpointReference'), 'Address')) ?? '';
    const xaddrs = (textOf(child(match, 'XAddrs')) ?? '').split(/\s+/).filter(Boolean);
    const scopes = (textOf(child(match, 'Scopes')) ?? '').split(/\s+/).filter(Boolean);
    const xaddr = xaddrs.find((x) => x.startsWith('http://')) ?? xaddrs[0];
    if (!xaddr) continue;
    out.push({
      endpoint,
      xaddr,
      xaddrs,
      scopes,
      name: scopeValue(scopes, 'name'),
      hardware: scopeValue(scopes, 'hardware'),
    });
  }
  return out;
}

/** Sends one Probe and collects the answers for `waitMs` (default 3 s). */
export function probe(options: ProbeOptions = {}): Promise<DiscoveredDevice[]> {
  const address = options.address ?? DISCOVERY_ADDRESS;
  const port = options.port ?? DISCOVERY_PORT;
  const waitMs = options.waitMs ?? 3000;
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: 'udp4' });
    const found = new Map<string, DiscoveredDevice>();
    socket.on('message', (message) => {
      try {
        for (const device of parseProbeMatches(message.toString('utf8'))) {
          found.set(device.endpoint || device.xaddr, device);
        }
      } catch {
        // Not a ProbeMatches we understand (another protocol on the port): ignored.
      }
    });
    socket.on('error', (error) => {
      socket.close();
      reject(error);
    });
    socket.bind(0, () => {
      const payload = Buffer.from(probeMessage(randomUUID()));
      // WS-Discovery section 3.1.1 (UDP retransmission): the Probe goes out twice.
      socket.send(payload, port, address);
      setTimeout(() => socket.send(payload, port, address), 100).unref();
      setTimeout(() => {
        socket.close();
        resolve([...found.values()].sort((a, b) => a.xaddr.localeCompare(b.xaddr)));
      }, waitMs);
    });
  });
}
