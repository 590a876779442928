/** 工单台“新建工单”表单（人工报修，POST /api/tickets）及人工工单“报修人”的中文文本；键与 new-ticket-en.ts 相同。 */
import type { newTicketEn } from './new-ticket-en.js';

export const newTicketZhCN: typeof newTicketEn = {
  open: '新建工单',
  heading: '报修检测发现不了的故障',
  hint: '用于来电报修的问题：画面模糊或偏移、外壳损坏等。Vigil 自己检测到的故障会自动开单。',
  site: '站点',
  chooseSite: '选择站点',
  device: '设备',
  wholeSite: '整个站点（不指定设备）',
  title: '故障概述（一行）',
  titlePlaceholder: '大门口的画面模糊',
  description: '报修人所述：位置、开始时间、现象',
  priority: '优先级',
  byContract: '按合同规则（一般；关键设备会上调）',
  submit: '开单',
  cancel: '取消',
  opened: (id: number) => `工单 #${id} 已创建。`,
  reportedBy: '报修人',
  reportedAt: '报修时间',
  via: { phone: '电话报修', portal: '客户门户报修' },
  listReporter: (by: string) => `${by} 报修`,
  reporter: (by: string, via: string | null) => (via === null ? by : `${by}（${via}）`),
  source: '来源',
  sources: { detected: 'Vigil 自动检测', manual: '人工报修' },
  descriptionLabel: '故障描述',
};
