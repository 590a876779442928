/**
 * The ONVIF media service ver20 (tr2, ONVIF Media2 Service Specification, Profile T):
 * the cheap part a health monitor needs: GetProfiles, GetStreamUri, GetSnapshotUri,
 * GetVideoSourceConfigurations. Same profiles and URIs as media ver10.
 */
import type { MediaProfile } from '../profiles.js';
import type { Operation, SoapService } from '../soap/dispatch.js';
import { faults, SoapFaultError } from '../soap/fault.js';
import { NS } from '../soap/namespaces.js';
import { escapeXml, textAt, type XmlElement } from '../soap/xml.js';
import { MEDIA2_SERVICE_PATH, SNAPSHOT_PATH, type ServiceContext } from './context.js';
import { streamPath } from './media.js';

type Media2Operation = Operation<ServiceContext>;

export function media2ServiceCapabilities(): string {
  return (
    '<tr2:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" OSD="false" Mask="false" SourceMask="false">' +
    '<tr2:ProfileCapabilities MaximumNumberOfProfiles="64" ConfigurationsSupported="VideoSource VideoEncoder"/>' +
    '<tr2:StreamingCapabilities RTSPStreaming="true" RTPMulticast="false" RTP_RTSP_TCP="true" NonAggregateControl="false"/>' +
    '</tr2:Capabilities>'
  );
}

function videoSourceXml(profile: MediaProfile, tag: string): string {
  const source = profile.videoSource;
  return (
    `<${tag} token="${escapeXml(source.configToken)}">` +
    `<tt:Name>${escapeXml(source.configToken)}</tt:Name><tt:UseCount>2</tt:UseCount>` +
    `<tt:SourceToken>${escapeXml(source.token)}</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="${source.bounds.width}" height="${source.bounds.height}"/>` +
    `</${tag}>`
  );
}

function profileXml(profile: MediaProfile, withResolution: boolean): string {
  const { encoder } = profile;
  return (
    `<tr2:Profiles token="${escapeXml(profile.token)}" fixed="true">` +
    `<tr2:Name>${escapeXml(profile.name)}</tr2:Name><tr2:Configurations>` +
    videoSourceXml(profile, 'tr2:VideoSource') +
    `<tr2:VideoEncoder token="${escapeXml(encoder.token)}" GovLength="${encoder.govLength}" Profile="${encoder.h264Profile}">` +
    `<tt:Name>${escapeXml(encoder.name)}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
    (withResolution
      ? `<tt:Resolution><tt:Width>${encoder.resolution.width}</tt:Width><tt:Height>${encoder.resolution.height}</tt:Height></tt:Resolution>` +
        `<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>${encoder.frameRate}</tt:FrameRateLimit>` +
        `<tt:BitrateLimit>${encoder.bitrateKbps}</tt:BitrateLimit></tt:RateControl>`
      : '') +
    `<tt:Quality>${encoder.quality}</tt:Quality></tr2:VideoEncoder>` +
    '</tr2:Configurations></tr2:Profiles>'
  );
}

function requestedProfile(request: XmlElement, context: ServiceContext): MediaProfile {
  const token = textAt(request, 'ProfileToken') ?? '';
  const profile = context.device.profiles.find((p) => p.token === token);
  if (!profile) throw new SoapFaultError(faults.noProfile(token));
  return profile;
}

const getProfiles: Media2Operation = {
  name: 'GetProfiles',
  access: 'user',
  handle: (request, context) => {
    // Media2 5.2.1: an optional Token narrows the answer to one profile.
    const token = textAt(request, 'Token');
    const profiles = context.device.profiles.filter(
      (p) => token === undefined || p.token === token,
    );
    const xml = profiles.map((p) => profileXml(p, !context.quirks.encoderWithoutResolution));
    return `<tr2:GetProfilesResponse>${xml.join('')}</tr2:GetProfilesResponse>`;
  },
};

const getStreamUri: Media2Operation = {
  name: 'GetStreamUri',
  access: 'user',
  handle: (request, context) => {
    const profile = requestedProfile(request, context);
    const uri = `${context.rtspBase}${streamPath(context.device, profile)}`;
    return `<tr2:GetStreamUriResponse><tr2:Uri>${escapeXml(uri)}</tr2:Uri></tr2:GetStreamUriResponse>`;
  },
};

const getSnapshotUri: Media2Operation = {
  name: 'GetSnapshotUri',
  access: 'user',
  handle: (request, context) => {
    const profile = requestedProfile(request, context);
    const uri = `${context.httpBase}${SNAPSHOT_PATH}${encodeURIComponent(profile.token)}.jpg`;
    return `<tr2:GetSnapshotUriResponse><tr2:Uri>${escapeXml(uri)}</tr2:Uri></tr2:GetSnapshotUriResponse>`;
  },
};

const getVideoSourceConfigurations: Media2Operation = {
  name: 'GetVideoSourceConfigurations',
  access: 'user',
  handle: (_request, context) => {
    const seen = new Set<string>();
    const xml: string[] = [];
    for (const profile of context.device.profiles) {
      if (seen.has(profile.videoSource.configToken)) continue;
      seen.add(profile.videoSource.configToken);
      xml.push(videoSourceXml(profile, 'tr2:Configurations'));
    }
    return `<tr2:GetVideoSourceConfigurationsResponse>${xml.join('')}</tr2:GetVideoSourceConfigurationsResponse>`;
  },
};

const getServiceCapabilities: Media2Operation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: () =>
    `<tr2:GetServiceCapabilitiesResponse>${media2ServiceCapabilities()}</tr2:GetServiceCapabilitiesResponse>`,
};

export const media2Service: SoapService<ServiceContext> = {
  path: MEDIA2_SERVICE_PATH,
  namespace: NS.tr2,
  operations: [
    getProfiles,
    getStreamUri,
    getSnapshotUri,
    getVideoSourceConfigurations,
    getServiceCapabilities,
  ],
};
