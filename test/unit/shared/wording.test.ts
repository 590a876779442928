/**
 * The one module that turns Vigil's messages into words (shared/wording/): every code
 * reads as a sentence in both languages, and the English ones are the texts the API,
 * the incident report and the webhooks have always carried.
 */
import { describe, expect, it } from 'vitest';
import { catalogues, reasonLabel, say } from '../../../shared/wording/render.js';
import { bare, message, type Message, type MessageCode } from '../../../shared/wording/messages.js';
import { ReasonCode } from '../../../shared/messages/device-state.js';

const lobby = { kind: 'camera' as const, name: 'Lobby', device: 'cam-01' };

/** One message of every code, with parameters a real ticket would carry. */
const everyCode: { [C in MessageCode]: Message & { code: C } } = {
  'title.device-down': message('title.device-down', { ...lobby, reason: 'unreachable' }),
  'title.flapping': message('title.flapping', lobby),
  'title.retention-short': message('title.retention-short', {
    kind: 'nvr',
    name: 'Recorder',
    device: 'nvr-01',
    days: 12.4,
    goal: 30,
  }),
  'title.degraded': message('title.degraded', { ...lobby, code: 'clock-drift' }),
  'title.site-unreachable': message('title.site-unreachable', { site: 'plant-3', agent: 'gw-01' }),
  'title.site-outage': message('title.site-outage', { site: 'plant-3', down: 4, cameras: 10 }),
  'title.gateway-resources': message('title.gateway-resources', {
    agent: 'gw-01',
    problems: [{ what: 'disk', pct: 98.4 }],
  }),
  'title.manual': message('title.manual', { text: 'The picture at the gate is blurred' }),
  'detected.device-down': message('detected.device-down', {
    messages: ['connect ECONNREFUSED 192.0.2.11:80', 'no answer in 5 s'],
  }),
  'detected.degraded': message('detected.degraded', {
    code: 'recording-stopped',
    lines: [{ text: 'newest recording 20 min old', channel: 'ch2' }],
  }),
  'detected.certificate-changed': message('detected.certificate-changed', {
    pinned: `${'AB:'.repeat(31)}CD`,
    presented: `${'12:'.repeat(31)}34`,
  }),
  'detected.credentials-rejected': message('detected.credentials-rejected', {
    lines: [{ text: 'GetDeviceInformation: the device refused the credentials (HTTP 401)' }],
  }),
  'detected.flapping': message('detected.flapping', { count: 3, windowMin: 60 }),
  'detected.retention-short': message('detected.retention-short', { days: 12.4, goal: 30 }),
  'detected.site-unreachable': message('detected.site-unreachable', {
    agent: 'gw-01',
    devices: 26,
    silentS: 90,
  }),
  'detected.site-outage': message('detected.site-outage', {
    down: ['cam-01', 'cam-02'],
    cameras: 6,
  }),
  'detected.gateway-resources': message('detected.gateway-resources', {
    problems: [{ what: 'cpu', pct: 99 }],
  }),
  'reported.manual': message('reported.manual', {
    by: 'olga',
    via: 'phone',
    description: 'out of focus since the storm',
  }),
  'resolved.device-up': bare('resolved.device-up'),
  'resolved.not-reported': bare('resolved.not-reported'),
  'resolved.gateway-ok': bare('resolved.gateway-ok'),
  'resolved.agent-back': bare('resolved.agent-back'),
  'resolved.flapping-calm': message('resolved.flapping-calm', { windowMin: 60 }),
  'resolved.retention-ok': message('resolved.retention-ok', { days: 30, goal: 30 }),
  'resolved.outage-over': message('resolved.outage-over', { stillDown: 1 }),
  'folded.site-outage': message('folded.site-outage', { site: 'plant-3', cameras: 4 }),
  'ticket.reopened': message('ticket.reopened', {
    minutes: 12,
    detail: message('detected.device-down', { messages: ['timeout'] }),
  }),
  'ticket.covered': message('ticket.covered', { added: ['cam-03'], gone: ['cam-01'] }),
  'ticket.paused': bare('ticket.paused'),
  'ticket.resumed': bare('ticket.resumed'),
  'ticket.sla-warning': message('ticket.sla-warning', { deadline: 'respond', leftMin: 2 }),
  'ticket.sla-breach': message('ticket.sla-breach', {
    deadline: 'on-site',
    due: '2026-11-26T10:03:15.500Z',
  }),
  'step.acknowledged': message('step.acknowledged', { note: 'on my way' }),
  'step.dispatched': message('step.dispatched', { engineer: 'Wang Wei' }),
  'step.on-site': message('step.on-site', {}),
  'step.resolved': message('step.resolved', { cause: 'PoE port', fix: 'replaced the switch' }),
  'step.closed': message('step.closed', { confirmation: 'Li Na signed' }),
  'step.note': message('step.note', { text: 'customer informed' }),
  'part.replaced': message('part.replaced', {
    part: 'DS-2CD2143G2-I',
    oldSerial: 'A1',
    newSerial: 'B2',
    depot: 'sh-pudong',
    warranty: true,
  }),
  'part.detected': message('part.detected', { oldSerial: 'A1', newSerial: 'B2' }),
  'part.warranty-repair': message('part.warranty-repair', { part: 'DS-2CD2143G2-I' }),
  'part.warranty-restarted': message('part.warranty-restarted', {
    startsOn: '2026-12-07',
    endsOn: '2029-12-07',
    years: 3,
  }),
  'part.needed': message('part.needed', {
    part: 'DS-2CD2143G2-I',
    stocked: true,
    depots: ['sh-pudong'],
    hours: 2,
  }),
  'part.shipped': message('part.shipped', {}),
  'notify.subject': message('notify.subject', {
    priority: 'emergency',
    stage: 'sla-warning',
    id: 17,
    deadline: 'respond',
    title: message('title.device-down', { ...lobby, reason: 'unreachable' }),
  }),
  'notify.body': message('notify.body', {
    customer: 'Acme Mall',
    site: 'plant-3',
    device: 'cam-01',
    fault: 'device-down',
    to: ['Zhang Wei'],
    respondBy: '2026-12-06 22:30 (UTC+08:00)',
    onSiteBy: null,
    resolveBy: null,
    ticketUrl: 'https://vigil.example.com/#/tickets/17',
    ackUrl: 'https://vigil.example.com/ack/abc',
  }),
  'notify.digest-subject': message('notify.digest-subject', { count: 3 }),
  'notify.channel-alert': message('notify.channel-alert', {
    channel: 'NOC robot',
    minutes: 10,
    code: '310000',
    message: 'sign not match',
  }),
  'notify.nowhere': message('notify.nowhere', { channel: 'NOC robot' }),
  'notify.fallback': message('notify.fallback', { channel: 'East robot', to: ['NOC robot'] }),
  'notify.sent': message('notify.sent', { channel: 'NOC robot', to: ['Zhang Wei'] }),
  'notify.failed': message('notify.failed', {
    channel: 'NOC robot',
    to: [],
    code: '130101',
    message: 'send too fast',
    final: false,
  }),
  'ack.heading': message('ack.heading', { id: 17 }),
  'ack.button': bare('ack.button'),
  'ack.name': bare('ack.name'),
  'ack.done': message('ack.done', { by: 'Zhang Wei' }),
  'ack.already': message('ack.already', { status: 'acknowledged', by: 'Li Na' }),
  'ack.used': bare('ack.used'),
  'ack.expired': bare('ack.expired'),
  'ack.invalid': bare('ack.invalid'),
  'advice.frequent-failures': message('advice.frequent-failures', {
    ...lobby,
    outages: 3,
    downMin: 105,
    longestMin: 60,
  }),
  'advice.low-availability': message('advice.low-availability', {
    ...lobby,
    availabilityPct: 97.5,
    outages: 2,
    downMin: 1080,
  }),
  'advice.warranty-ending': message('advice.warranty-ending', { ...lobby, endsOn: '2027-01-15' }),
  'advice.retention-below-goal': message('advice.retention-below-goal', {
    kind: 'nvr',
    name: 'Recorder',
    device: 'nvr-01',
    days: 12,
    goal: 30,
  }),
  'advice.clock-drift': message('advice.clock-drift', { ...lobby, offsetS: 12 }),
  'advice.sla-breaches': message('advice.sla-breaches', {
    priority: 'emergency',
    breached: 3,
    met: 3,
  }),
  text: message('text', { text: 'as written before codes' }),
};

describe('wording', () => {
  it('says every code in English and in Chinese, never as a bare code', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const [code, said] of Object.entries(everyCode)) {
        const words = say(said, locale);
        expect(words, `${locale} ${code}`).not.toBe('');
        expect(words, `${locale} ${code}`).not.toContain(code.includes('.') ? code : '\u0000');
        expect(words, `${locale} ${code}`).not.toMatch(/undefined|\[object/);
      }
    }
  });

  it('keeps the English texts the API and the webhooks carried before codes', () => {
    expect(say(everyCode['title.device-down'])).toBe(
      'Camera "Lobby" (cam-01) is down: unreachable',
    );
    expect(say(message('title.device-down', { ...lobby, kind: 'nvr', reason: '' }))).toBe(
      'NVR "Lobby" (cam-01) is down: no reason reported',
    );
    expect(say(everyCode['detected.device-down'])).toBe(
      'Device down: connect ECONNREFUSED 192.0.2.11:80; no answer in 5 s',
    );
    expect(say(message('detected.device-down', { messages: [] }))).toBe(
      'Device down: no reason reported',
    );
    expect(say(everyCode['detected.degraded'])).toBe(
      'Degraded (recording stopped): ch2: newest recording 20 min old',
    );
    expect(say(everyCode['resolved.device-up'])).toBe(
      'Resolved automatically: the device is up again',
    );
    expect(say(everyCode['ticket.reopened'])).toBe(
      'The fault came back 12 min after it was resolved: Device down: timeout',
    );
    expect(say(everyCode['ticket.covered'])).toBe(
      'now also covers cam-03; no longer covers cam-01 (up again).',
    );
    expect(say(everyCode['step.acknowledged'])).toBe('Acknowledged: on my way');
    expect(say(message('step.on-site', {}))).toBe('Engineer on site');
  });

  it('speaks Chinese to a Chinese reader', () => {
    expect(say(everyCode['title.device-down'], 'zh-CN')).toBe(
      '摄像机“Lobby”（cam-01）故障离线：无法连接',
    );
    expect(say(everyCode['detected.flapping'], 'zh-CN')).toBe('频繁故障：60 分钟内故障 3 次');
    expect(say(everyCode['ticket.sla-warning'], 'zh-CN')).toBe('响应时限将到：剩余 2 分钟');
  });

  it('names refused monitoring credentials as such, with what to do, in both languages', () => {
    const title = message('title.degraded', { ...lobby, code: 'auth-failed' });
    expect(say(title)).toBe('Camera "Lobby" (cam-01): monitoring credentials rejected');
    expect(say(title, 'zh-CN')).toBe('摄像机“Lobby”（cam-01）：监控账号密码被拒绝');
    const detected = everyCode['detected.credentials-rejected'];
    expect(say(detected)).toMatch(/not counted as down.*Update the device's password/);
    expect(say(detected, 'zh-CN')).toMatch(/不计入停机时间.*更新该设备的密码/);
  });

  it('names every reason code of the contract in both languages', () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const code of ReasonCode.anyOf.map((literal) => literal.const as string)) {
        expect(catalogues[locale].labels.reasons[code], `${locale} ${code}`).toBeTruthy();
        expect(reasonLabel(code, locale)).not.toBe(code);
      }
    }
  });

  it('says who opened a manual ticket and how it was reported, in both languages', () => {
    expect(say(everyCode['reported.manual'])).toBe(
      'Ticket opened by olga, reported by phone: out of focus since the storm',
    );
    expect(say(everyCode['reported.manual'], 'zh-CN')).toBe(
      'olga 开单，电话报修：out of focus since the storm',
    );
    const portal = message('reported.manual', { by: 'acme-li', via: 'portal', description: '' });
    expect(say(portal)).toBe('Ticket opened by acme-li, reported through the customer portal');
    expect(say(portal, 'zh-CN')).toBe('acme-li 开单，客户通过门户报修');
  });

  it('shows a code this build does not know by its code and parameters, not as nothing', () => {
    const unknown = {
      code: 'title.from-a-newer-broker',
      params: { site: 'x' },
    } as unknown as Message;
    expect(say(unknown)).toBe('title.from-a-newer-broker {"site":"x"}');
  });
});
