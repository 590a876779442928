/**
 * Profile G on an NVR: Recording Control (trc) GetRecordings, GetRecordingJobs,
 * GetRecordingJobState, and Recording Search (tse) GetRecordingSummary, FindRecordings,
 * GetRecordingSearchResults, EndSearch (ONVIF Recording Control and Recording Search
 * Service Specifications). One recording, one video track and one job per channel.
 */
import type { MediaProfile } from '../profiles.js';
import { formatDateTime } from '../personality.js';
import type { ChannelRecording } from '../recording.js';
import type { Operation, SoapService } from '../soap/dispatch.js';
import { SoapFaultError } from '../soap/fault.js';
import { NS } from '../soap/namespaces.js';
import { escapeXml, textAt } from '../soap/xml.js';
import { RECORDING_SERVICE_PATH, SEARCH_SERVICE_PATH, type ServiceContext } from './context.js';

type ProfileGOperation = Operation<ServiceContext>;

const TRACK = 'VIDEO001';
const PROFILE_SOURCE = 'http://www.onvif.org/ver10/schema/Profile';

export function recordingServiceCapabilities(channels: number): string {
  return (
    '<trc:Capabilities DynamicRecordings="false" DynamicTracks="false" Encoding="H264" ' +
    `MaxRate="${channels * 8}" MaxTotalRate="${channels * 8}" MaxRecordings="${channels}" ` +
    'MaxRecordingJobs="' +
    channels +
    '" Options="false" MetadataRecording="false"/>'
  );
}

export function searchServiceCapabilities(): string {
  return '<tse:Capabilities MetadataSearch="false" GeneralStartEvents="false"/>';
}

function mainProfile(context: ServiceContext, channel: number): MediaProfile | undefined {
  return context.device.profiles.find((p) => p.channel === channel);
}

function dataFrom(context: ServiceContext, recording: ChannelRecording): string {
  const earliest = context.recorder.earliest(recording, Date.now(), context.effects.retentionDays);
  const at = context.quirks.epochDataFrom ? 0 : earliest + context.clockOffsetMs;
  return formatDateTime(at, context.quirks);
}

function dataUntil(context: ServiceContext, recording: ChannelRecording): string {
  const until = context.recorder.dataUntil(recording, Date.now()) + context.clockOffsetMs;
  return formatDateTime(until, context.quirks);
}

function sourceXml(context: ServiceContext, recording: ChannelRecording): string {
  const profile = mainProfile(context, recording.channel);
  const name = `${context.device.name} channel ${recording.channel}`;
  return (
    `<tt:SourceId>${escapeXml(recording.sourceToken)}</tt:SourceId>` +
    `<tt:Name>${escapeXml(name)}</tt:Name>` +
    `<tt:Location>${escapeXml(context.device.name)}</tt:Location>` +
    `<tt:Description>Input ${recording.channel}</tt:Description>` +
    `<tt:Address>${escapeXml(profile ? `${context.rtspBase}/${context.device.id}/${profile.token}` : '')}</tt:Address>`
  );
}

function requestedJob(context: ServiceContext, token: string): ChannelRecording {
  const recording = context.recorder.all().find((r) => r.jobToken === token);
  if (!recording) {
    throw new SoapFaultError({
      code: 'Sender',
      subcodes: ['ter:InvalidArgVal', 'ter:NoRecordingJob'],
      reason: `The recording job "${token}" does not exist`,
    });
  }
  return recording;
}

const getRecordings: ProfileGOperation = {
  name: 'GetRecordings',
  access: 'user',
  handle: (_request, context) =>
    '<trc:GetRecordingsResponse>' +
    context.recorder
      .all()
      .map(
        (r) =>
          `<trc:RecordingItem><tt:RecordingToken>${r.recordingToken}</tt:RecordingToken>` +
          `<tt:Configuration><tt:Source>${sourceXml(context, r)}</tt:Source>` +
          `<tt:Content>Channel ${r.channel}</tt:Content>` +
          '<tt:MaximumRetentionTime>P30D</tt:MaximumRetentionTime></tt:Configuration>' +
          `<tt:Tracks><tt:Track><tt:TrackToken>${TRACK}</tt:TrackToken><tt:Configuration>` +
          '<tt:TrackType>Video</tt:TrackType><tt:Description>Video track</tt:Description>' +
          '</tt:Configuration></tt:Track></tt:Tracks></trc:RecordingItem>',
      )
      .join('') +
    '</trc:GetRecordingsResponse>',
};

// Mode is the job's configuration (Recording Control 5.3: Active = told to record) and
// stays Active under the faults; what they change is the job's state (GetRecordingJobState),
// as on a recorder whose disk failed: told to record, not recording.
const getRecordingJobs: ProfileGOperation = {
  name: 'GetRecordingJobs',
  access: 'user',
  handle: (_request, context) =>
    '<trc:GetRecordingJobsResponse>' +
    context.recorder
      .all()
      .map(
        (r) =>
          `<trc:JobItem><tt:JobToken>${r.jobToken}</tt:JobToken><tt:JobConfiguration>` +
          `<tt:RecordingToken>${r.recordingToken}</tt:RecordingToken>` +
          '<tt:Mode>Active</tt:Mode><tt:Priority>1</tt:Priority>' +
          `<tt:Source><tt:SourceToken Type="${PROFILE_SOURCE}"><tt:Token>${escapeXml(mainProfile(context, r.channel)?.token ?? '')}</tt:Token></tt:SourceToken>` +
          `<tt:Tracks><tt:SourceTag>video</tt:SourceTag><tt:Destination>${TRACK}</tt:Destination></tt:Tracks></tt:Source>` +
          '</tt:JobConfiguration></trc:JobItem>',
      )
      .join('') +
    '</trc:GetRecordingJobsResponse>',
};

const getRecordingJobState: ProfileGOperation = {
  name: 'GetRecordingJobState',
  access: 'user',
  handle: (request, context) => {
    const r = requestedJob(context, textAt(request, 'JobToken') ?? '');
    const error = context.effects.storageFailed
      ? '<tt:Error>storage failure</tt:Error>'
      : context.effects.storageFull
        ? '<tt:Error>storage full</tt:Error>'
        : '';
    return (
      '<trc:GetRecordingJobStateResponse><trc:State>' +
      `<tt:RecordingToken>${r.recordingToken}</tt:RecordingToken><tt:State>${r.state}</tt:State>` +
      `<tt:Sources><tt:SourceToken Type="${PROFILE_SOURCE}"><tt:Token>${escapeXml(mainProfile(context, r.channel)?.token ?? '')}</tt:Token></tt:SourceToken>` +
      `<tt:State>${r.state}</tt:State><tt:Tracks><tt:Track><tt:SourceTag>video</tt:SourceTag>` +
      `<tt:Destination>${TRACK}</tt:Destination>${error}<tt:State>${r.state}</tt:State></tt:Track></tt:Tracks></tt:Sources>` +
      '</trc:State></trc:GetRecordingJobStateResponse>'
    );
  },
};

const getRecordingServiceCapabilities: ProfileGOperation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: (_request, context) =>
    `<trc:GetServiceCapabilitiesResponse>${recordingServiceCapabilities(context.device.channels)}</trc:GetServiceCapabilitiesResponse>`,
};

export const recordingService: SoapService<ServiceContext> = {
  path: RECORDING_SERVICE_PATH,
  namespace: NS.trc,
  operations: [
    getRecordings,
    getRecordingJobs,
    getRecordingJobState,
    getRecordingServiceCapabilities,
  ],
};

const getRecordingSummary: ProfileGOperation = {
  name: 'GetRecordingSummary',
  access: 'user',
  handle: (_request, context) => {
    const all = context.recorder.all();
    const now = Date.now();
    const from = Math.min(
      ...all.map((r) => context.recorder.earliest(r, now, context.effects.retentionDays)),
    );
    const until = Math.max(...all.map((r) => context.recorder.dataUntil(r, now)));
    const at = (ms: number) => formatDateTime(ms + context.clockOffsetMs, context.quirks);
    return (
      '<tse:GetRecordingSummaryResponse><tse:Summary>' +
      `<tt:DataFrom>${context.quirks.epochDataFrom ? formatDateTime(0, context.quirks) : at(from)}</tt:DataFrom>` +
      `<tt:DataUntil>${at(until)}</tt:DataUntil>` +
      `<tt:NumberRecordings>${all.length}</tt:NumberRecordings>` +
      '</tse:Summary></tse:GetRecordingSummaryResponse>'
    );
  },
};

const findRecordings: ProfileGOperation = {
  name: 'FindRecordings',
  access: 'user',
  handle: (_request, context) =>
    `<tse:FindRecordingsResponse><tse:SearchToken>${context.recorder.startSearch(Date.now())}</tse:SearchToken></tse:FindRecordingsResponse>`,
};

function requestedSearch(context: ServiceContext, token: string): void {
  if (!context.recorder.touchSearch(token, Date.now())) {
    throw new SoapFaultError({
      code: 'Sender',
      subcodes: ['ter:InvalidArgVal', 'ter:InvalidToken'],
      reason: `The search token "${token}" is unknown or expired; call FindRecordings again`,
    });
  }
}

const getRecordingSearchResults: ProfileGOperation = {
  name: 'GetRecordingSearchResults',
  access: 'user',
  handle: (request, context) => {
    requestedSearch(context, textAt(request, 'SearchToken') ?? '');
    const max = Number(textAt(request, 'MaxResults') ?? '1000');
    const results = context.recorder
      .all()
      .slice(0, Number.isInteger(max) && max > 0 ? max : 1000)
      .map(
        (r) =>
          '<tt:RecordingInformation>' +
          `<tt:RecordingToken>${r.recordingToken}</tt:RecordingToken>` +
          `<tt:Source>${sourceXml(context, r)}</tt:Source>` +
          `<tt:EarliestRecording>${dataFrom(context, r)}</tt:EarliestRecording>` +
          `<tt:LatestRecording>${dataUntil(context, r)}</tt:LatestRecording>` +
          `<tt:Content>Channel ${r.channel}</tt:Content>` +
          `<tt:Track><tt:TrackToken>${TRACK}</tt:TrackToken><tt:TrackType>Video</tt:TrackType>` +
          `<tt:Description>Video track</tt:Description><tt:DataFrom>${dataFrom(context, r)}</tt:DataFrom>` +
          `<tt:DataTo>${dataUntil(context, r)}</tt:DataTo></tt:Track>` +
          `<tt:RecordingStatus>${r.state === 'Active' ? 'Recording' : 'Stopped'}</tt:RecordingStatus>` +
          '</tt:RecordingInformation>',
      );
    return (
      '<tse:GetRecordingSearchResultsResponse><tse:ResultList>' +
      `<tt:SearchState>Completed</tt:SearchState>${results.join('')}` +
      '</tse:ResultList></tse:GetRecordingSearchResultsResponse>'
    );
  },
};

const endSearch: ProfileGOperation = {
  name: 'EndSearch',
  access: 'user',
  handle: (request, context) => {
    const token = textAt(request, 'SearchToken') ?? '';
    requestedSearch(context, token);
    context.recorder.endSearch(token);
    return `<tse:EndSearchResponse><tse:Endpoint>${formatDateTime(context.deviceNow, context.quirks)}</tse:Endpoint></tse:EndSearchResponse>`;
  },
};

const getSearchServiceCapabilities: ProfileGOperation = {
  name: 'GetServiceCapabilities',
  access: 'pre-auth',
  handle: () =>
    `<tse:GetServiceCapabilitiesResponse>${searchServiceCapabilities()}</tse:GetServiceCapabilitiesResponse>`,
};

export const searchService: SoapService<ServiceContext> = {
  path: SEARCH_SERVICE_PATH,
  namespace: NS.tse,
  operations: [
    getRecordingSummary,
    findRecordings,
    getRecordingSearchResults,
    endSearch,
    getSearchServiceCapabilities,
  ],
};
