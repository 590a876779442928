import { afterEach, describe, expect, it } from 'vitest';
import { en } from '../../../console/src/locales/en.js';
import { zhCN } from '../../../console/src/locales/zh-CN.js';
import { formatDuration, formatAgo } from '../../../console/src/format.js';
import { setLanguage, strings } from '../../../console/src/strings.js';
import { entryText, reasonLabel, ticketTitle } from '../../../console/src/wording.js';
import { ticketExample } from '../../../shared/api/tickets.js';

/** Every key path of a catalog, with the kind of value and a function's arity. */
function shape(value: unknown, path = ''): string[] {
  if (typeof value === 'function') return [`${path} fn/${value.length}`];
  if (typeof value === 'string') return [`${path} string`];
  if (typeof value === 'object' && value !== null) {
    return Object.keys(value)
      .sort()
      .flatMap((key) => shape((value as Record<string, unknown>)[key], `${path}.${key}`));
  }
  return [`${path} ${typeof value}`];
}

function texts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(texts);
  return [];
}

describe('the console languages', () => {
  afterEach(() => setLanguage('en'));

  it('have the same keys, with the same arguments, in English and Chinese', () => {
    expect(shape(zhCN)).toEqual(shape(en));
  });

  it('are translated: most Chinese texts hold Chinese characters', () => {
    const all = texts(zhCN);
    const chinese = all.filter((text) => /[\u4e00-\u9fff]/.test(text));
    // Ids, units and marks ("–", "zh-CN", " ") are the same in both.
    expect(chinese.length / all.length).toBeGreaterThan(0.85);
  });

  it('formats durations and ages in the chosen language', () => {
    const ms = (9 * 60 + 12) * 1000;
    expect(formatDuration(ms)).toBe('9 min 12 s');
    setLanguage('zh-CN');
    expect(strings.locale).toBe('zh-CN');
    expect(formatDuration(ms)).toBe('9 分钟 12 秒');
    expect(strings.countdown.remaining(formatDuration(ms))).toBe('剩余 9 分钟 12 秒');
    expect(formatAgo(new Date(Date.now() - 3 * 60_000).toISOString(), Date.now())).toBe('3 分钟前');
  });

  it("shows the broker's English title in English and says it in Chinese from its code", () => {
    expect(ticketTitle(ticketExample)).toBe(ticketExample.title);
    expect(entryText(ticketExample.timeline[0]!)).toBe(ticketExample.timeline[0]!.text);
    setLanguage('zh-CN');
    expect(ticketTitle(ticketExample)).toBe('摄像机“Lobby entrance”（cam-01）故障离线：无法连接');
    const degraded = {
      ...ticketExample,
      titleMessage: {
        code: 'title.degraded',
        params: { kind: 'camera', name: 'Lobby entrance', device: 'cam-01', code: 'clock-drift' },
      },
    };
    expect(ticketTitle(degraded)).toBe('摄像机“Lobby entrance”（cam-01）：时钟偏差');
    expect(entryText(ticketExample.timeline[2]!)).toBe('自动解决：设备已恢复');
    expect(reasonLabel({ code: 'storage-full' })).toBe('存储已满');
  });
});
