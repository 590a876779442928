/**
 * The ONVIF media service ver10 (trt, ONVIF Media Service Specification). Answers are
 * shaped like the captures GetProfiles.xml, GetStreamUri.xml, GetSnapshotUri.xml and
 * media.GetVideoSources.xml of
 * test/fixtures/onvif-agsh. Every profile carries Resolution and RateControl
 * (node-onvif's init() throws without them) unless the personality's
 * encoderWithoutResolution quirk drops them, as some real NVRs do.
 */
import type { DeviceModel } from '../model.js';
import type { MediaProfile } from '../profiles.js';
import type { Operation, SoapService } from '../soap/dispatch.js';
import { faults, SoapFaultError } from '../soap/fault.js';
import { NS } from '../soap/namespaces.js';
import { escapeXml, textAt, type XmlElement } from '../soap/xml.js';
import { MEDIA_SERVICE_PATH, SNAPSHOT_PATH, type ServiceContext } from './context.js';

type MediaOperation = Operation<ServiceContext>;

export function mediaServiceCapabilities(device: DeviceModel): string {
  return (
    '<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false">' +
    `<trt:ProfileCapabilities MaximumNumberOfProfiles="${device.profiles.length}"/>` +
    '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true" ' +
    'NonAggregateControl="false" NoRTSPStreaming="false"/>' +
    '</trt:Capabilities>'
  );
}

/** How many profiles share each video source configuration (its UseCount). */
function useCounts(device: DeviceModel): Map<string, number> {
  const counts = new Map<string, number>();
  for (const p of device.profiles) {
    counts.set(p.videoSource.configToken, (counts.get(p.videoSource.configToken) ?? 0) + 1);
  }
  return counts;
}

function profileXml(
  profile: MediaProfile,
  useCount: number,
  withResolution: boolean,
  tag = 'trt:Profiles',
): string {
  const { videoSource: source, encoder } = profile;
  return (
    `<${tag} fixed="true" token="${escapeXml(profile.token)}">` +
    `<tt:Name>${escapeXml(profile.name)}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="${escapeXml(source.configToken)}">` +
    `<tt:Name>${escapeXml(source.configToken)}</tt:Name>` +
    `<tt:UseCount>${useCount}</tt:UseCount>` +
    `<tt:SourceToken>${escapeXml(source.token)}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${source.bounds.width}" height="${source.bounds.height}"/>` +
    '</tt:VideoSourceConfiguration>' +
    `<tt:VideoEncoderConfiguration token="${escapeXml(encoder.token)}">` +
    `<tt:Name>${escapeXml(encoder.name)}</tt:Name>` +
    '<tt:UseCount>1</tt:UseCount>' +
    `<tt:Encoding>${encoder.encoding}</tt:Encoding>` +
    (withResolution
      ? `<tt:Resolution><tt:Width>${encoder.resolution.width}</tt:Width><tt:Height>${encoder.resolution.height}</tt:Height></tt:Resolution>`
      : '') +
    `<tt:Quality>${encoder.quality}</tt:Quality>` +
    (withResolution
      ? '<tt:RateControl>' +
        `<tt:FrameRateLimit>${encoder.frameRate}</tt:FrameRateLimit>` +
        '<tt:EncodingInterval>1</tt:EncodingInterval>' +
        `<tt:BitrateLimit>${encoder.bitrateKbps}</tt:BitrateLimit>` +
        '</tt:RateControl>'
      : '') +
    `<tt:H264><tt:GovLength>${encoder.govLength}</tt:GovLength><tt:H264Profile>${encoder.h264Profile}</tt:H264Profile></tt:H264>` +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>' +
    '<tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout>' +
    '</tt:VideoEncoderConfiguration>' +
    `</${tag}>`
  );
}

/** The profile a request's ProfileToken names, or the NoProfile fault. */
function requestedProfile(request: XmlElement, device: DeviceModel): MediaProfile {
  const token = textAt(request, 'ProfileToken') ?? '';
  const profile = device.profiles.find((p) => p.token === token);
  if (!profile) throw new SoapFaultError(faults.noProfile(token));
  return profile;
}

/** A MediaUri answer: valid until the device reboots or is reconfigured. */
function mediaUri(uri: string): string {
  return (
    `<trt:MediaUri><tt:Uri>${escapeXml(uri)}</tt:Uri>` +
    '<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>' +
    '<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>' +
    '<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>'
  );
}

/** The stream path of a profile on the site's RTSP server: stable for a given fleet. */
export function streamPath(device: DeviceModel, profile: MediaProfile): string {
  return `/${encodeURIComponent(device.id)}/${encodeURIComponent(profile.token)}`;
}

const getProfiles: MediaOperation = {
  name: 'GetProfiles',
  access: 'user',
  handle: (_request, { device, quirks }) => {
    const counts = useCounts(device);
    const profiles = device.profiles.map((p) =>
      profileXml(p, counts.get(p.videoSource.configToken) ?? 1, !quirks.encoderWithoutResolution),
    );
    return `<trt:GetProfilesResponse>${profiles.join('')}</trt:GetProfilesResponse>`;
  },
};

const getProfile: MediaOperation = {
  name: 'GetProfile',
  access: 'user',
  handle: (request, { device, quirks }) => {
    const profile = requestedProfile(request, device);
    const count = useCounts(device).get(profile.videoSource.configToken) ?? 1;
    const xml = profileXml(profile, count, !quirks.encoderWithoutResolution, 'trt:Profile');
    return `<trt:GetProfileResponse>${xml}</trt:GetProfileResponse>`;
  },
};

const getStreamUri: MediaOperation = {
  name: 'GetStreamUri',
  access: 'user',
  // Every transport (UDP, TCP, RTSP, HTTP) gets the same RTSP URI, as most cameras do:
  // the transport is chosen in the RTSP SETUP, not by the URI.
  handle: (request, { device, rtspBase }) => {
    const profile = requestedProfile(request, device);
    const uri = `${rtspBase}${streamPath(device, profile)}`;
    return `<trt:GetStreamUriResponse>${mediaUri(uri)}</trt:GetStreamUriResponse>`;
  },
};

const getSnapshotUri: MediaOperation = {
  name: 'GetSnapshotUri',
  access: 'user',
  handle: (request, { device, httpBase }) => {
    const profile = requestedProfile(request, device);
    const uri = `${httpBase}${SNAPSHOT_PATH}${encodeURIComponent(profile.token)}.jpg`;
    return `<trt:GetSnapshotUriResponse>${mediaUri(uri)}</trt:GetSnapshotUriResponse>`;
  },
};

/** One VideoSource per channel (what NVR clients count inputs by). */
const getVideoSources: MediaOperation = {
  name: 'GetVideoSources',
  access: 'user',
  handle: (_request, { device }) => {
    const seen = new Set<string>();
    const sources: string[] = [];
    for (const profile of device.profiles) {
      const { videoSource, encoder } = profile;
      if (seen.has(videoSource.token)) continue;
      seen.add(videoSource.token);
      sources.push(
        `<trt:VideoSources token="${escapeXml(videoSource.token)}">` +
          `<tt:Framerate>${encoder.frameRate}</tt:Framerate>` +
          `<tt:Resolution><tt:Width>${videoSource.bounds.width}</tt:Width><tt:Height>${videoSource.bounds.height}</tt:Height></tt:Resolution>` +
          '</trt:VideoSources>',
      );
    }
    return `<trt:GetVideoSourcesResponse>${sources.join('')}</trt:GetVideoSourcesResponse>`;
  },
};

const getServiceCapabilities: MediaOperation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: (_request, { device }) =>
    `<trt:GetServiceCapabilitiesResponse>${mediaServiceCapabilities(device)}</trt:GetServiceCapabilitiesResponse>`,
};

export const mediaService: SoapService<ServiceContext> = {
  path: MEDIA_SERVICE_PATH,
  namespace: NS.trt,
  operations: [
    getProfiles,
    getProfile,
    getStreamUri,
    getSnapshotUri,
    getVideoSources,
    getServiceCapabilities,
  ],
};
