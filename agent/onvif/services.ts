/**
 * The ONVIF operations the agent uses, as SOAP requests of our own (soap.ts):
 * the service map, media profiles parsed tolerantly (real NVRs omit Resolution), stream
 * and snapshot URIs, Profile G recording search, storage configurations and the event
 * pull point. Authenticated with a WS-Security UsernameToken, PasswordDigest (ONVIF Core
 * 5.12.2), whose Created time follows the device clock (the offset from GetSystemDateAndTime).
 *
 * Service addresses: only the path of what the device advertises is used, on the host and
 * port of the configured XAddr (devices behind NAT advertise addresses we cannot reach).
 * Media and pull-point addresses keep their scheme, and take the configured port only
 * when that scheme is the configured one (#reachable).
 */
import type { KeptConnections } from './kept-http.js';
import { createHash } from 'node:crypto';
import type { Secret } from '../secret.js';
import { parseDateTimeText } from './date-time.js';
import { freshNonce } from './nonce.js';
import { redact, type AuthMemory, type ExchangeTls } from './http-exchange.js';
import {
  attribute,
  bodyElement,
  child,
  children,
  NS,
  soapRequest,
  textOf,
  type SoapRequest,
} from './soap.js';
import {
  OnvifError,
  type DeviceInformation,
  type EventMessage,
  type RecordingInfo,
  type RecordingJob,
  type RecordingJobItem,
  type StorageConfig,
  type VideoChannel,
} from './types.js';

export interface OwnServicesOptions {
  xaddr: string;
  username: string;
  password: Secret;
  timeoutMs: number;
  /** Device clock minus ours, in ms, as last measured. */
  offsetMs: () => number;
  /**
   * The device's memory of the HTTP authentication that worked (http-exchange.ts): a
   * device that wants HTTP Digest then gets it at once, beside the UsernameToken.
   */
  auth?: AuthMemory;
  /** How https:// connections to the device are trusted. */
  tls?: ExchangeTls;
  /** The device's kept connections (http-exchange.ts deviceConnections). */
  connections?: KeptConnections;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64 =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** WS-Security UsernameToken with PasswordDigest = Base64(SHA1(nonce + created + password)). */
export function usernameToken(username: string, password: string, offsetMs: number): string {
  const nonce = freshNonce(16);
  const created = new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
  return (
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><wsse:UsernameToken>` +
    `<wsse:Username>${escapeXml(username)}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_DIGEST}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${BASE64}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

function text(node: unknown): string {
  return textOf(node) ?? '';
}

function simpleItems(node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of children(node, 'SimpleItem')) {
    const name = attribute(item, 'Name');
    if (name !== undefined) out[name] = attribute(item, 'Value') ?? '';
  }
  return out;
}

/** The ONVIF operations of one device that we send ourselves. */
export class OwnServices {
  readonly #options: OwnServicesOptions;
  #addresses: Map<string, string> | null = null;

  constructor(options: OwnServicesOptions) {
    this.#options = options;
  }

  /**
   * What every request of ours carries besides its SOAP: the credentials for an HTTP
   * challenge (ONVIF Core 5.12.1: devices must accept HTTP Digest, and some answer a
   * UsernameToken alone with 401), the memory of what worked, the TLS policy.
   */
  #transport(): Pick<SoapRequest, 'credentials' | 'auth' | 'tls' | 'connections'> {
    const { username, password, auth, tls, connections } = this.#options;
    return {
      credentials: { username, password },
      ...(auth ? { auth } : {}),
      ...(tls ? { tls } : {}),
      ...(connections ? { connections } : {}),
    };
  }

  /** Forget the service map (after a reboot or replacement the paths may differ). */
  reset(): void {
    this.#addresses = null;
  }

  /** The address of a service by its namespace; null when the device does not offer it. */
  async address(namespace: string, signal?: AbortSignal): Promise<string | null> {
    if (!this.#addresses) this.#addresses = await this.#serviceMap(signal);
    return this.#addresses.get(namespace) ?? null;
  }

  async call(
    url: string,
    namespace: string,
    operation: string,
    body: string,
    signal?: AbortSignal,
    extraHeader = '',
  ): Promise<unknown> {
    const { username, password, timeoutMs, offsetMs } = this.#options;
    const answer = await soapRequest({
      url,
      action: `${namespace}/${operation}`,
      body,
      namespaces: { tds: NS.tds, trt: NS.trt, tev: NS.tev, tse: NS.tse, trc: NS.trc, tt: NS.tt },
      header: () => usernameToken(username, password.reveal(), offsetMs()) + extraHeader,
      ...this.#transport(),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const response = bodyElement(answer.envelope, `${operation}Response`);
    if (response === undefined) {
      throw new OnvifError('protocol-error', `the answer has no ${operation}Response`);
    }
    return response;
  }

  /**
   * tds:GetDeviceInformation (ONVIF Core 8.3.3), with credentials: the identity check, and
   * the proof that the password still works. Every value is kept as the device wrote it.
   */
  async deviceInformation(signal?: AbortSignal): Promise<DeviceInformation> {
    const info = await this.call(
      this.#options.xaddr,
      NS.tds,
      'GetDeviceInformation',
      '<tds:GetDeviceInformation/>',
      signal,
    );
    return {
      manufacturer: text(child(info, 'Manufacturer')),
      model: text(child(info, 'Model')),
      firmwareVersion: text(child(info, 'FirmwareVersion')),
      serialNumber: text(child(info, 'SerialNumber')),
      hardwareId: text(child(info, 'HardwareId')),
    };
  }

  /** trt:GetProfiles, grouped by video source: one entry per channel. */
  async channels(signal?: AbortSignal): Promise<VideoChannel[]> {
    const url = (await this.address(NS.trt, signal)) ?? this.#options.xaddr;
    const response = await this.call(url, NS.trt, 'GetProfiles', '<trt:GetProfiles/>', signal);
    const bySource = new Map<string, VideoChannel>();
    for (const profile of children(response, 'Profiles')) {
      const token = attribute(profile, 'token') ?? '';
      const source = child(profile, 'VideoSourceConfiguration');
      const sourceToken = text(child(source, 'SourceToken')) || token;
      const known = bySource.get(sourceToken);
      if (known) {
        known.profiles += 1;
        continue;
      }
      const encoder = child(profile, 'VideoEncoderConfiguration');
      const resolution = child(encoder, 'Resolution');
      const width = Number(text(child(resolution, 'Width')));
      const height = Number(text(child(resolution, 'Height')));
      bySource.set(sourceToken, {
        profileToken: token,
        sourceToken,
        name: text(child(profile, 'Name')) || token,
        encoding: text(child(encoder, 'Encoding')) || null,
        width: Number.isFinite(width) && width > 0 ? width : null,
        height: Number.isFinite(height) && height > 0 ? height : null,
        profiles: 1,
      });
    }
    return [...bySource.values()];
  }

  /** trt:GetStreamUri for RTSP (ONVIF Media 5.15.1). */
  async streamUri(profileToken: string, signal?: AbortSignal): Promise<string> {
    const url = (await this.address(NS.trt, signal)) ?? this.#options.xaddr;
    const response = await this.call(
      url,
      NS.trt,
      'GetStreamUri',
      '<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>' +
        '<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>' +
        `<trt:ProfileToken>${escapeXml(profileToken)}</trt:ProfileToken></trt:GetStreamUri>`,
      signal,
    );
    return this.#reachable(text(child(child(response, 'MediaUri'), 'Uri')));
  }

  /** trt:GetSnapshotUri (ONVIF Media 5.16.1). */
  async snapshotUri(profileToken: string, signal?: AbortSignal): Promise<string> {
    const url = (await this.address(NS.trt, signal)) ?? this.#options.xaddr;
    const response = await this.call(
      url,
      NS.trt,
      'GetSnapshotUri',
      `<trt:GetSnapshotUri><trt:ProfileToken>${escapeXml(profileToken)}</trt:ProfileToken></trt:GetSnapshotUri>`,
      signal,
    );
    return this.#reachable(text(child(child(response, 'MediaUri'), 'Uri')));
  }

  /**
   * Profile G recording search (ONVIF Recording Search 5.3): FindRecordings, then
   * GetRecordingSearchResults until the search completes, then EndSearch. Null when the
   * device has no search service (a camera).
   */
  async recordings(signal?: AbortSignal): Promise<RecordingInfo[] | null> {
    const url = await this.address(NS.tse, signal);
    if (!url) return null;
    const found = await this.call(
      url,
      NS.tse,
      'FindRecordings',
      '<tse:FindRecordings><tse:Scope/><tse:KeepAliveTime>PT10S</tse:KeepAliveTime></tse:FindRecordings>',
      signal,
    );
    const token = text(child(found, 'SearchToken'));
    const out: RecordingInfo[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        const results = await this.call(
          url,
          NS.tse,
          'GetRecordingSearchResults',
          `<tse:GetRecordingSearchResults><tse:SearchToken>${escapeXml(token)}</tse:SearchToken>` +
            '<tse:MaxResults>1000</tse:MaxResults><tse:WaitTime>PT1S</tse:WaitTime></tse:GetRecordingSearchResults>',
          signal,
        );
        const list = child(results, 'ResultList');
        for (const info of children(list, 'RecordingInformation')) {
          const source = child(info, 'Source');
          out.push({
            token: text(child(info, 'RecordingToken')),
            source: text(child(source, 'Name')) || text(child(source, 'SourceId')),
            latest: parseDateTimeText(text(child(info, 'LatestRecording'))),
            status: text(child(info, 'RecordingStatus')) || 'Unknown',
            starts: [
              text(child(info, 'EarliestRecording')),
              ...children(info, 'Track').map((track) => text(child(track, 'DataFrom'))),
            ]
              .map(parseDateTimeText)
              .filter((at): at is Date => at !== null),
          });
        }
        if (text(child(list, 'SearchState')) !== 'Searching') break;
      }
    } finally {
      // Release the search on the device even when a round failed; a failure here is moot.
      await this.call(
        url,
        NS.tse,
        'EndSearch',
        `<tse:EndSearch><tse:SearchToken>${escapeXml(token)}</tse:SearchToken></tse:EndSearch>`,
        signal,
      ).catch(() => undefined);
    }
    return out;
  }

  /**
   * Recording Control (trc) GetRecordingJobs, then GetRecordingJobState per job (ONVIF
   * Recording Control 5.3.4 and 5.3.9: the job list has no state), for the jobs `which`
   * names (all when absent; the recording check takes them in turns, checks/turns.ts).
   * Null when the device has no recording control service (a camera).
   */
  async recordingJobs(
    signal?: AbortSignal,
    which?: (jobs: readonly RecordingJobItem[]) => ReadonlySet<string>,
  ): Promise<RecordingJob[] | null> {
    const url = await this.address(NS.trc, signal);
    if (!url) return null;
    const list = await this.call(
      url,
      NS.trc,
      'GetRecordingJobs',
      '<trc:GetRecordingJobs/>',
      signal,
    );
    const items = children(list, 'JobItem').map((item) => {
      const configuration = child(item, 'JobConfiguration');
      return {
        token: text(child(item, 'JobToken')),
        recordingToken: text(child(configuration, 'RecordingToken')),
        mode: text(child(configuration, 'Mode')),
      };
    });
    const asked = which?.(items);
    const out: RecordingJob[] = [];
    // One at a time: an NVR is a small computer, and 16 channels are 16 requests.
    for (const item of items) {
      if (asked && !asked.has(item.token)) {
        out.push({ ...item, state: null, errors: [] });
        continue;
      }
      const answer = await this.call(
        url,
        NS.trc,
        'GetRecordingJobState',
        `<trc:GetRecordingJobState><trc:JobToken>${escapeXml(item.token)}</trc:JobToken></trc:GetRecordingJobState>`,
        signal,
      );
      const state = child(answer, 'State');
      const errors: string[] = [];
      // tt:RecordingJobStateInformation: one Sources element per source, its Tracks.
      for (const source of children(state, 'Sources')) {
        for (const track of children(child(source, 'Tracks'), 'Track')) {
          const error = text(child(track, 'Error'));
          if (error) errors.push(error);
        }
      }
      out.push({
        ...item,
        recordingToken: text(child(state, 'RecordingToken')) || item.recordingToken,
        state: text(child(state, 'State')) || 'Unknown',
        errors,
      });
    }
    return out;
  }

  /** tds:GetStorageConfigurations (ONVIF Core 8.3.x, device storage). */
  async storage(signal?: AbortSignal): Promise<StorageConfig[]> {
    const response = await this.call(
      this.#options.xaddr,
      NS.tds,
      'GetStorageConfigurations',
      '<tds:GetStorageConfigurations/>',
      signal,
    );
    return children(response, 'StorageConfigurations').map((config) => {
      const data = child(config, 'Data');
      return {
        token: attribute(config, 'token') ?? '',
        type: attribute(data, 'type') ?? '',
        path: text(child(data, 'LocalPath')) || text(child(data, 'StorageUri')),
      };
    });
  }

  /** tev:CreatePullPointSubscription (ONVIF Core 9.1.1): the pull point's address. */
  async createPullPoint(keepAliveS: number, signal?: AbortSignal): Promise<string> {
    const url = await this.address(NS.tev, signal);
    if (!url) throw new OnvifError('protocol-error', 'the device has no event service');
    const response = await this.call(
      url,
      NS.tev,
      'CreatePullPointSubscription',
      `<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT${keepAliveS}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`,
      signal,
    );
    const address = text(child(child(response, 'SubscriptionReference'), 'Address'));
    if (address === '') throw new OnvifError('protocol-error', 'the pull point has no address');
    return this.#reachable(address);
  }

  /** tev:PullMessages on a pull point (ONVIF Core 9.1.2). */
  async pullMessages(address: string, signal?: AbortSignal): Promise<EventMessage[]> {
    const response = await this.call(
      address,
      NS.tev,
      'PullMessages',
      '<tev:PullMessages><tev:Timeout>PT0S</tev:Timeout><tev:MessageLimit>100</tev:MessageLimit></tev:PullMessages>',
      signal,
      `<wsa:To xmlns:wsa="${NS.wsa}">${escapeXml(address)}</wsa:To>`,
    );
    return children(response, 'NotificationMessage').map((notification) => {
      const message = child(child(notification, 'Message'), 'Message');
      const topic = text(child(notification, 'Topic'));
      return {
        topic: topic.replace(/^[a-z0-9]+:/i, ''),
        utcTime: parseDateTimeText(attribute(message, 'UtcTime') ?? ''),
        operation: attribute(message, 'PropertyOperation') ?? 'Changed',
        source: simpleItems(child(message, 'Source')),
        data: simpleItems(child(message, 'Data')),
      };
    });
  }

  /** wsnt:Renew (WS-BaseNotification 6.1): keeps the pull point alive. */
  async renew(address: string, keepAliveS: number, signal?: AbortSignal): Promise<void> {
    await this.call(
      address,
      'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager',
      'Renew',
      `<wsnt:Renew xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"><wsnt:TerminationTime>PT${keepAliveS}S</wsnt:TerminationTime></wsnt:Renew>`,
      signal,
      `<wsa:To xmlns:wsa="${NS.wsa}">${escapeXml(address)}</wsa:To>`,
    );
  }

  async unsubscribe(address: string, signal?: AbortSignal): Promise<void> {
    await this.call(
      address,
      'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager',
      'Unsubscribe',
      '<wsnt:Unsubscribe xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2"/>',
      signal,
      `<wsa:To xmlns:wsa="${NS.wsa}">${escapeXml(address)}</wsa:To>`,
    );
  }

  /**
   * An advertised address moved onto the configured host (NAT, port forwarding). The
   * configured port is the port of the configured scheme: it replaces the advertised port
   * only when the schemes match. An http:// snapshot of a device configured as
   * https://host:8443 keeps its own port (the configured one speaks TLS), as rtsp:// does.
   */
  #reachable(advertised: string): string {
    if (advertised === '') throw new OnvifError('protocol-error', 'the device gave an empty URI');
    try {
      const configured = new URL(this.#options.xaddr);
      const url = new URL(advertised);
      url.hostname = configured.hostname;
      if (url.protocol === configured.protocol) url.port = configured.port;
      return url.toString();
    } catch {
      throw new OnvifError(
        'protocol-error',
        `the device gave an invalid URI: ${redact(advertised, this.#options.password)}`,
      );
    }
  }

  /** tds:GetServices (no authentication needed, ONVIF Core 5.12.1), else GetCapabilities. */
  async #serviceMap(signal?: AbortSignal): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    const { xaddr, timeoutMs } = this.#options;
    const at = (advertised: string): string => {
      try {
        const url = new URL(xaddr);
        const given = new URL(advertised);
        url.pathname = given.pathname;
        url.search = given.search;
        return url.toString();
      } catch {
        return xaddr;
      }
    };
    try {
      const answer = await soapRequest({
        url: xaddr,
        action: `${NS.tds}/GetServices`,
        body: '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>',
        namespaces: { tds: NS.tds },
        ...this.#transport(),
        timeoutMs,
        ...(signal ? { signal } : {}),
      });
      for (const service of children(
        bodyElement(answer.envelope, 'GetServicesResponse'),
        'Service',
      )) {
        const namespace = text(child(service, 'Namespace'));
        const address = text(child(service, 'XAddr'));
        if (namespace && address) map.set(namespace, at(address));
      }
      if (map.size > 0) return map;
    } catch (error) {
      if (!(error instanceof OnvifError) || error.kind !== 'protocol-error') throw error;
    }
    // Some devices lack GetServices (docs/ONVIF.md): GetCapabilities has the map too.
    const answer = await soapRequest({
      url: xaddr,
      action: `${NS.tds}/GetCapabilities`,
      body: '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>',
      namespaces: { tds: NS.tds },
      ...this.#transport(),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    const capabilities = child(
      bodyElement(answer.envelope, 'GetCapabilitiesResponse'),
      'Capabilities',
    );
    const entries: [string, unknown][] = [
      [NS.trt, child(capabilities, 'Media')],
      [NS.tev, child(capabilities, 'Events')],
      [NS.trc, child(child(capabilities, 'Extension'), 'Recording')],
      [NS.tse, child(child(capabilities, 'Extension'), 'Search')],
    ];
    for (const [namespace, node] of entries) {
      const address = text(child(node, 'XAddr'));
      if (address) map.set(namespace, at(address));
    }
    return map;
  }
}
