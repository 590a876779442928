/** 页头时区选择的中文文本，键与 zone-en.ts 相同。 */
import type { zoneEn } from './zone-en.js';

export const zoneZhCN: typeof zoneEn = {
  label: '界面时区',
  browser: (zone: string) => `本浏览器的时区（${zone}）`,
  enteredIn: (zone: string) => `此处输入的日期和时间按界面时区 ${zone}（可在页头更改）。`,
};
