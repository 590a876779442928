/** 客户门户（issue 16 第 5 部分）的中文文本，键与 portal-en.ts 相同。 */
import type { portalEn } from './portal-en.js';

export const portalZhCN: typeof portalEn = {
  label: (customer: string) => `客户门户 · ${customer}`,
  nav: {
    sites: '我的站点',
    tickets: '我的工单',
    reports: '报告与签收',
    inspection: '巡检',
  },
  ticketFollow: '维保团队正在处理此工单；每一步处理都会实时显示在这里。',
  accountCustomer: '所属客户（仅客户账号）',
  noCustomer: '无（内部员工）',
  signOff: '签收确认',
  reportOpen: '报告故障',
  reportHint: '请告诉我们检测发现不了的问题：画面模糊或偏移、外壳损坏等。维保团队会立即收到通知。',
  reportDescription: '位置、开始时间、看到的现象',
};
