/**
 * The ONVIF device management service (tds, ONVIF Core section 8). Answers are shaped
 * like the captures in test/fixtures/onvif-agsh (GetSystemDateAndTime.xml,
 * GetDeviceInformation.xml, GetCapabilities.xml, GetServices.xml).
 */
import { faults, SoapFaultError } from '../soap/fault.js';
import type { Operation, SoapService } from '../soap/dispatch.js';
import { NS } from '../soap/namespaces.js';
import { childrenNamed, escapeXml, textAt } from '../soap/xml.js';
import {
  DEVICE_SERVICE_PATH,
  EVENTS_SERVICE_PATH,
  MEDIA2_SERVICE_PATH,
  MEDIA_SERVICE_PATH,
  RECORDING_SERVICE_PATH,
  SEARCH_SERVICE_PATH,
  type ServiceContext,
} from './context.js';
import { eventsServiceCapabilities } from './events.js';
import { mediaServiceCapabilities } from './media.js';
import { media2ServiceCapabilities } from './media2.js';
import { recordingServiceCapabilities, searchServiceCapabilities } from './recording.js';

type DeviceOperation = Operation<ServiceContext>;

/** ONVIF version the simulated firmware claims (GetCapabilities SupportedVersions). */
const ONVIF_VERSION = { major: 2, minor: 60 };

const version = (major: number, minor: number) =>
  `<tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor>`;

const getSystemDateAndTime: DeviceOperation = {
  name: 'GetSystemDateAndTime',
  // ONVIF Core 5.12: needs no authentication, so a client can learn the device clock
  // before it computes a UsernameToken's Created.
  access: 'pre-auth',
  handle: (_request, { deviceNow }) => {
    const now = new Date(deviceNow);
    const dateTime =
      '<tt:Time>' +
      `<tt:Hour>${now.getUTCHours()}</tt:Hour>` +
      `<tt:Minute>${now.getUTCMinutes()}</tt:Minute>` +
      `<tt:Second>${now.getUTCSeconds()}</tt:Second>` +
      '</tt:Time><tt:Date>' +
      `<tt:Year>${now.getUTCFullYear()}</tt:Year>` +
      `<tt:Month>${now.getUTCMonth() + 1}</tt:Month>` +
      `<tt:Day>${now.getUTCDate()}</tt:Day>` +
      '</tt:Date>';
    // The time zone is UTC, so the local time equals the UTC time.
    return (
      '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
      '<tt:DateTimeType>Manual</tt:DateTimeType>' +
      '<tt:DaylightSavings>false</tt:DaylightSavings>' +
      '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>' +
      `<tt:UTCDateTime>${dateTime}</tt:UTCDateTime>` +
      `<tt:LocalDateTime>${dateTime}</tt:LocalDateTime>` +
      '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
    );
  },
};

const getDeviceInformation: DeviceOperation = {
  name: 'GetDeviceInformation',
  access: 'user',
  handle: (_request, { identity }) => {
    return (
      '<tds:GetDeviceInformationResponse>' +
      `<tds:Manufacturer>${escapeXml(identity.manufacturer)}</tds:Manufacturer>` +
      `<tds:Model>${escapeXml(identity.model)}</tds:Model>` +
      `<tds:FirmwareVersion>${escapeXml(identity.firmwareVersion)}</tds:FirmwareVersion>` +
      `<tds:SerialNumber>${escapeXml(identity.serialNumber)}</tds:SerialNumber>` +
      `<tds:HardwareId>${escapeXml(identity.hardwareId)}</tds:HardwareId>` +
      '</tds:GetDeviceInformationResponse>'
    );
  },
};

/** GetCapabilities categories this device has; others get NoSuchService. */
const CATEGORIES = ['All', 'Device', 'Media', 'Events'] as const;

const getCapabilities: DeviceOperation = {
  name: 'GetCapabilities',
  access: 'pre-auth',
  handle: (request, { device, httpBase }) => {
    const asked = childrenNamed(request, 'Category').map((c) => c.text);
    const categories = asked.length === 0 ? ['All'] : asked;
    for (const category of categories) {
      if (!(CATEGORIES as readonly string[]).includes(category)) {
        throw new SoapFaultError(faults.noSuchService(category));
      }
    }
    const wants = (category: string) => categories.includes('All') || categories.includes(category);
    let capabilities = '';
    if (wants('Device')) {
      capabilities +=
        `<tt:Device><tt:XAddr>${httpBase}${DEVICE_SERVICE_PATH}</tt:XAddr>` +
        '<tt:Network><tt:IPFilter>false</tt:IPFilter><tt:ZeroConfiguration>false</tt:ZeroConfiguration>' +
        '<tt:IPVersion6>false</tt:IPVersion6><tt:DynDNS>false</tt:DynDNS></tt:Network>' +
        '<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>' +
        '<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>' +
        '<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>' +
        `<tt:SupportedVersions>${version(ONVIF_VERSION.major, ONVIF_VERSION.minor)}</tt:SupportedVersions>` +
        '</tt:System>' +
        '<tt:IO><tt:InputConnectors>0</tt:InputConnectors><tt:RelayOutputs>0</tt:RelayOutputs></tt:IO>' +
        '<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>false</tt:TLS1.2>' +
        '<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration><tt:AccessPolicyConfig>false</tt:AccessPolicyConfig>' +
        '<tt:X.509Token>false</tt:X.509Token><tt:SAMLToken>false</tt:SAMLToken>' +
        '<tt:KerberosToken>false</tt:KerberosToken><tt:RELToken>false</tt:RELToken></tt:Security>' +
        '</tt:Device>';
    }
    if (wants('Events')) {
      capabilities +=
        `<tt:Events><tt:XAddr>${httpBase}${EVENTS_SERVICE_PATH}</tt:XAddr>` +
        '<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>' +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport>' +
        '<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>' +
        '</tt:Events>';
    }
    if (wants('Media')) {
      capabilities +=
        `<tt:Media><tt:XAddr>${httpBase}${MEDIA_SERVICE_PATH}</tt:XAddr>` +
        '<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>' +
        '<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities>' +
        `<tt:Extension><tt:ProfileCapabilities><tt:MaximumNumberOfProfiles>${device.profiles.length}` +
        '</tt:MaximumNumberOfProfiles></tt:ProfileCapabilities></tt:Extension>' +
        '</tt:Media>';
    }
    // ONVIF Core 8.1.2.2: Profile G services sit in Capabilities/Extension.
    if (wants('All') && device.kind === 'nvr') {
      capabilities +=
        '<tt:Extension>' +
        `<tt:Recording><tt:XAddr>${httpBase}${RECORDING_SERVICE_PATH}</tt:XAddr>` +
        '<tt:ReceiverSource>false</tt:ReceiverSource><tt:MediaProfileSource>true</tt:MediaProfileSource>' +
        '<tt:DynamicRecordings>false</tt:DynamicRecordings><tt:DynamicTracks>false</tt:DynamicTracks>' +
        `<tt:MaxStringLength>256</tt:MaxStringLength></tt:Recording>` +
        `<tt:Search><tt:XAddr>${httpBase}${SEARCH_SERVICE_PATH}</tt:XAddr>` +
        '<tt:MetadataSearch>false</tt:MetadataSearch></tt:Search>' +
        '</tt:Extension>';
    }
    return `<tds:GetCapabilitiesResponse><tds:Capabilities>${capabilities}</tds:Capabilities></tds:GetCapabilitiesResponse>`;
  },
};

function deviceServiceCapabilities(): string {
  return (
    '<tds:Capabilities>' +
    '<tds:Network IPFilter="false" ZeroConfiguration="false" IPVersion6="false" DynDNS="false" NTP="0"/>' +
    '<tds:Security TLS1.0="false" TLS1.1="false" TLS1.2="false" OnboardKeyGeneration="false" ' +
    'AccessPolicyConfig="false" DefaultAccessPolicy="false" Dot1X="false" RemoteUserHandling="false" ' +
    'X.509Token="false" SAMLToken="false" KerberosToken="false" UsernameToken="true" HttpDigest="false" ' +
    'RELToken="false"/>' +
    '<tds:System DiscoveryResolve="false" DiscoveryBye="false" RemoteDiscovery="false" SystemBackup="false" ' +
    'SystemLogging="false" FirmwareUpgrade="false" HttpFirmwareUpgrade="false" HttpSystemBackup="false" ' +
    'HttpSystemLogging="false" HttpSupportInformation="false"/>' +
    '</tds:Capabilities>'
  );
}

const getServices: DeviceOperation = {
  name: 'GetServices',
  access: 'pre-auth',
  handle: (request, context) => {
    if (context.quirks.noGetServices) {
      throw new SoapFaultError(faults.actionNotSupported('GetServices'));
    }
    const withCapabilities = textAt(request, 'IncludeCapability') === 'true';
    const services: { namespace: string; path: string; capabilities: string }[] = [
      { namespace: NS.tds, path: DEVICE_SERVICE_PATH, capabilities: deviceServiceCapabilities() },
      {
        namespace: NS.trt,
        path: MEDIA_SERVICE_PATH,
        capabilities: mediaServiceCapabilities(context.device),
      },
      { namespace: NS.tr2, path: MEDIA2_SERVICE_PATH, capabilities: media2ServiceCapabilities() },
      { namespace: NS.tev, path: EVENTS_SERVICE_PATH, capabilities: eventsServiceCapabilities() },
    ];
    if (context.device.kind === 'nvr') {
      services.push(
        {
          namespace: NS.trc,
          path: RECORDING_SERVICE_PATH,
          capabilities: recordingServiceCapabilities(context.device.channels),
        },
        { namespace: NS.tse, path: SEARCH_SERVICE_PATH, capabilities: searchServiceCapabilities() },
      );
    }
    const entries = services.map(
      (service) =>
        '<tds:Service>' +
        `<tds:Namespace>${service.namespace}</tds:Namespace>` +
        `<tds:XAddr>${context.httpBase}${service.path}</tds:XAddr>` +
        (withCapabilities ? `<tds:Capabilities>${service.capabilities}</tds:Capabilities>` : '') +
        `<tds:Version>${version(ONVIF_VERSION.major, ONVIF_VERSION.minor)}</tds:Version>` +
        '</tds:Service>',
    );
    return `<tds:GetServicesResponse>${entries.join('')}</tds:GetServicesResponse>`;
  },
};

const getServiceCapabilities: DeviceOperation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: () =>
    `<tds:GetServiceCapabilitiesResponse>${deviceServiceCapabilities()}</tds:GetServiceCapabilitiesResponse>`,
};

const getHostname: DeviceOperation = {
  name: 'GetHostname',
  access: 'pre-auth',
  handle: (_request, { device }) =>
    '<tds:GetHostnameResponse><tds:HostnameInformation>' +
    `<tt:FromDHCP>false</tt:FromDHCP><tt:Name>${escapeXml(device.id)}</tt:Name>` +
    '</tds:HostnameInformation></tds:GetHostnameResponse>',
};

const getWsdlUrl: DeviceOperation = {
  name: 'GetWsdlUrl',
  access: 'pre-auth',
  handle: () =>
    '<tds:GetWsdlUrlResponse><tds:WsdlUrl>https://www.onvif.org/profiles/specifications/</tds:WsdlUrl></tds:GetWsdlUrlResponse>',
};

/**
 * ONVIF Core 8.7 (storage configuration): where recordings go. Configuration only: the
 * standard has no capacity or health field, so storage trouble arrives as events.
 */
const getStorageConfigurations: DeviceOperation = {
  name: 'GetStorageConfigurations',
  access: 'user',
  handle: (_request, { device }) => {
    const path = device.kind === 'nvr' ? '/mnt/hdd0' : '/mnt/sdcard';
    return (
      '<tds:GetStorageConfigurationsResponse>' +
      '<tds:StorageConfigurations token="storage0"><tt:Data type="LocalStorage">' +
      `<tt:LocalPath>${path}</tt:LocalPath><tt:StorageUri>file://${path}</tt:StorageUri>` +
      '</tt:Data></tds:StorageConfigurations></tds:GetStorageConfigurationsResponse>'
    );
  },
};

export const deviceService: SoapService<ServiceContext> = {
  path: DEVICE_SERVICE_PATH,
  namespace: NS.tds,
  operations: [
    getSystemDateAndTime,
    getDeviceInformation,
    getCapabilities,
    getServices,
    getServiceCapabilities,
    getHostname,
    getWsdlUrl,
    getStorageConfigurations,
  ],
};
