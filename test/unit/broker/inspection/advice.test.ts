/**
 * The inspection report's evaluation and improvement advice (评测和改进意见): every rule
 * gives a code with the figures behind it, each code reads in Chinese and in English with
 * those figures, and the report keeps no English sentence for a Chinese customer.
 */
import { describe, expect, it } from 'vitest';
import { deviceExample, type Device } from '../../../../shared/api/devices.js';
import type { WeeklyTrend } from '../../../../shared/api/inspection.js';
import { siteExample } from '../../../../shared/api/sites.js';
import { ticketExample } from '../../../../shared/api/tickets.js';
import type { Message } from '../../../../shared/wording/messages.js';
import { say } from '../../../../shared/wording/render.js';
import { inspectionReport, reportInLanguage } from '../../../../broker/inspection/report.js';
import type { StatusChange } from '../../../../broker/inspection/history.js';

const device = (id: string, kind: 'camera' | 'nvr', name: string): Device => ({
  ...deviceExample,
  id,
  kind,
  name,
});

const week = (deviceId: string, patch: Partial<WeeklyTrend>): WeeklyTrend => ({
  deviceId,
  weekStart: '2026-11-08T16:00:00.000Z',
  responseMs: null,
  clockOffsetS: null,
  storageUsedPct: null,
  retentionDays: null,
  recordingPct: null,
  ...patch,
});

const changes: StatusChange[] = [
  { deviceId: 'cam-01', status: 'up', at: '2026-10-20T00:00:00.000Z' },
  { deviceId: 'cam-02', status: 'up', at: '2026-10-20T00:00:00.000Z' },
  { deviceId: 'cam-03', status: 'up', at: '2026-10-20T00:00:00.000Z' },
  { deviceId: 'nvr-01', status: 'up', at: '2026-10-20T00:00:00.000Z' },
  // cam-01: three outages of 30 min (frequent failures).
  ...['03', '10', '20'].flatMap((day): StatusChange[] => [
    { deviceId: 'cam-01', status: 'down', at: `2026-11-${day}T02:00:00.000Z` },
    { deviceId: 'cam-01', status: 'up', at: `2026-11-${day}T02:30:00.000Z` },
  ]),
  // cam-02: one outage of 18 h (availability 97.5 %).
  { deviceId: 'cam-02', status: 'down', at: '2026-11-12T00:00:00.000Z' },
  { deviceId: 'cam-02', status: 'up', at: '2026-11-12T18:00:00.000Z' },
];

/** A November in Beijing with one case of every rule. */
function november(locale?: 'en' | 'zh-CN') {
  return inspectionReport({
    // Accepted on 2023-12-21: every device's warranty ends on 2026-12-21, within 90 days.
    site: { ...siteExample, id: 'plant-7', acceptedOn: '2023-12-21', retentionGoalDays: 30 },
    period: '2026-11',
    timeZone: 'Asia/Shanghai',
    devices: [
      device('cam-01', 'camera', '北门'),
      device('cam-02', 'camera', '大门'),
      device('cam-03', 'camera', '仓库'),
      device('nvr-01', 'nvr', '一号录像机'),
    ],
    changes,
    maintenance: [],
    tickets: [
      {
        ...ticketExample,
        deviceId: 'cam-01',
        priority: 'emergency',
        sla: ticketExample.sla.map((clock, i) => ({
          ...clock,
          state: i === 0 ? 'breached' : 'met',
        })),
      },
    ],
    inventory: [],
    metrics: null,
    trends: () =>
      Promise.resolve([
        week('nvr-01', { retentionDays: 12 }),
        week('cam-03', { clockOffsetS: 12.5 }),
      ]),
    now: new Date('2026-12-02T08:00:00Z'),
    ...(locale ? { locale } : {}),
  });
}

const RULES = [
  'frequent-failures',
  'low-availability',
  'warranty-ending',
  'retention-below-goal',
  'clock-drift',
  'sla-breaches',
];

describe('inspection advice', () => {
  it('gives every rule as a code with its figures, rendered in both languages with them', async () => {
    const report = await november();
    expect(new Set(report.suggestions.map((s) => s.rule))).toEqual(new Set(RULES));
    for (const s of report.suggestions) {
      const message = s.message as Message;
      expect(message.code).toBe(`advice.${s.rule}`);
      const zh = say(message, 'zh-CN');
      const en = say(message, 'en');
      for (const [name, value] of Object.entries(s.figures)) {
        if (typeof value === 'number') {
          expect(zh, `${s.rule} ${name}`).toContain(String(value));
          expect(en, `${s.rule} ${name}`).toContain(String(value));
        }
      }
    }
    const text = (rule: string, locale: 'en' | 'zh-CN') =>
      say(report.suggestions.find((s) => s.rule === rule)!.message as Message, locale);
    expect(text('frequent-failures', 'zh-CN')).toBe(
      '摄像机“北门”（cam-01）本期故障 3 次，累计停机 90 分钟，最长一次 30 分钟。建议检查网线、水晶头及交换机 PoE 供电端口。',
    );
    expect(text('low-availability', 'zh-CN')).toBe(
      '摄像机“大门”（cam-02）本期可用率 97.5%，故障 1 次，累计停机 1080 分钟。建议查明故障原因并及时处理。',
    );
    expect(text('low-availability', 'en')).toBe(
      'Camera "大门" (cam-02) was available 97.5 % of the time, down 1080 min in 1 outage: find the cause.',
    );
    expect(text('retention-below-goal', 'zh-CN')).toBe(
      '录像机“一号录像机”（nvr-01）录像最短仅保存 12 天，低于合同要求的 30 天。建议扩容硬盘或降低摄像机码率。',
    );
    expect(text('clock-drift', 'zh-CN')).toContain('时钟偏差最大 12.5 秒');
    expect(text('clock-drift', 'en')).toContain('was up to 12.5 s off');
    expect(text('sla-breaches', 'zh-CN')).toBe(
      '紧急工单本期有 1 项时限超时（按时完成 2 项）。建议检查值班安排及到场路程时间。',
    );
    expect(text('sla-breaches', 'en')).toBe(
      '1 deadline of emergency tickets missed (2 met): review the duty roster and travel times.',
    );
    // The day as each language writes it.
    expect(text('warranty-ending', 'zh-CN')).toContain('质保期将于 2026年12月21日届满');
    expect(text('warranty-ending', 'en')).toContain('leaves warranty on 2026-12-21');
  });

  it('keeps no English sentence for a Chinese customer, and renders English on request', async () => {
    const zh = await november();
    expect(zh.locale).toBe('zh-CN');
    for (const s of zh.suggestions) {
      // Only ids and the abbreviations a Chinese engineer writes as they are remain Latin.
      const latin = s.text.replace(/(cam|nvr)-\d+/g, '').match(/[A-Za-z]{2,}/g) ?? [];
      expect(
        latin.filter((w) => !['PoE', 'NTP'].includes(w)),
        s.text,
      ).toEqual([]);
      expect(s.text).toBe(say(s.message as Message, 'zh-CN'));
    }
    const en = await november('en');
    expect(en.suggestions.map((s) => s.message)).toEqual(zh.suggestions.map((s) => s.message));
    expect(reportInLanguage(zh, 'en')).toEqual({ ...en });
    expect(en.suggestions.find((s) => s.rule === 'frequent-failures')?.text).toMatch(
      /failed 3 times.*check its cabling and PoE port\.$/,
    );
  });
});
