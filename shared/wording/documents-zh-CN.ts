/** 交给客户的文档（./documents.ts）的中文用语：巡检报告与故障报告。 */
import type { DocumentWords } from './document-words.js';

const quarters = ['一', '二', '三', '四'];

/** 时长取整到 0.1，整数不带“.0”。 */
const tenth = (n: number) => `${Math.round(n * 10) / 10}`;

export const documentsZhCN: DocumentWords = {
  lang: 'zh-CN',
  dash: '—',
  none: '无',
  time: (t) =>
    `${t.year}年${Number(t.month)}月${Number(t.day)}日 ${t.hour}:${t.minute}（${t.offset}）`,
  day: (day) => {
    const [y, m, d] = day.split('-');
    return y && m && d ? `${y}年${Number(m)}月${Number(d)}日` : day;
  },
  period: (period) => {
    const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
    if (quarter) return `${quarter[1]}年第${quarters[Number(quarter[2]) - 1]}季度`;
    const month = /^(\d{4})-(\d{2})$/.exec(period);
    return month ? `${month[1]}年${Number(month[2])}月` : period;
  },
  minutes: (n) => `${tenth(n)} 分钟`,
  hours: (n) => `${tenth(n)} 小时`,
  duration: (minutes) =>
    minutes < 60 ? `${minutes} 分钟` : `${Math.floor(minutes / 60)} 小时 ${minutes % 60} 分钟`,
  percent: (value) => `${value}%`,
  priority: { emergency: '紧急', serious: '严重', general: '一般' },
  kind: { camera: '摄像机', nvr: '录像机' },
  signProvider: '服务方（乙方）签字',
  signCustomer: '客户（甲方）签字',
  signDate: '日期',
  generated: (when) => `本报告由 Vigil 于 ${when} 生成。`,

  inspection: {
    title: (siteId, period) => `巡检报告 ${siteId} ${period}`,
    heading: (siteName, siteId, period) =>
      `${siteName && siteName !== siteId ? `${siteName}（${siteId}）` : siteId}${period}巡检报告`,
    customer: '客户',
    period: '统计周期',
    range: (from, to, zone) => `${from} 至 ${to}（时区 ${zone}）`,
    availability: '站点可用率（不含维护时段）',
    devices: '设备运行情况',
    deviceColumns: [
      '设备编号',
      '名称',
      '可用率',
      '故障次数',
      '累计停机',
      '最长一次',
      '平均修复时间（MTTR）',
      '平均故障间隔（MTBF）',
      '维护时长',
      '质保',
    ],
    warranty: {
      'in-warranty': '在保',
      'ending-soon': '即将到期',
      expired: '已过保',
      unknown: '未知',
    },
    tickets: '工单与服务时限',
    ticketColumns: ['优先级', '工单数', '按时完成', '超时', '达标率', '已响应：中位数 / 最慢'],
    acknowledged: (count, median, slowest) => `${count} 单：${median} / ${slowest}`,
    inventory: '设备变更',
    inventoryColumns: ['时间', '设备', '变更', '原 → 新'],
    change: { replaced: '更换', firmware: '固件升级' },
    csvColumns: [
      '站点',
      '统计周期',
      '设备编号',
      '名称',
      '类型',
      '可用率（%）',
      '故障次数',
      '累计停机（秒）',
      '平均修复时间（秒）',
      '平均故障间隔（秒）',
      '工单数',
      '固件版本',
      '序列号',
      '质保到期日',
      '质保状态',
    ],
    advice: '评测和改进意见',
    noAdvice: '本期设备运行正常，暂无改进意见。',
  },

  incident: {
    title: (id) => `故障报告 工单 ${id}`,
    heading: (id) => `故障报告（工单 #${id}）`,
    whatFailed: '故障内容',
    siteDevice: '站点 / 设备',
    faultPriority: '故障类型 / 优先级',
    detected: '发现时间',
    reported: '报修',
    reportedBy: (when, by, via) =>
      `${when}，${by} 人工开单（${via === 'portal' ? '客户通过门户报修' : '电话报修'}）`,
    description: '报修描述',
    resolved: '解决时间',
    notResolved: '未解决',
    engineer: '维修工程师',
    cause: '故障原因',
    fix: '处理措施',
    covers: '涉及设备',
    confirmation: '客户确认',
    sla: '服务时限',
    slaMet: '全部按时完成',
    slaBreached: '有时限超时',
    deadlines: '服务时限',
    deadlineColumns: ['时限', '允许时长', '截止时间', '完成时间', '结果'],
    deadline: {
      respond: '首次响应',
      'on-site': '到场',
      resolve: '解决',
      'part-replaced': '备件更换',
      'part-shipped': '备件发货',
    },
    state: {
      running: '计时中',
      warning: '即将超时',
      paused: '暂停',
      met: '按时',
      breached: '超时',
    },
    log: '处理记录',
    logColumns: (zone) => [`时间（${zone}）`, '步骤', '人员', '内容'],
    step: {
      detected: '发现故障',
      reported: '人工报修',
      acknowledged: '已响应',
      dispatched: '已派工',
      'on-site': '已到场',
      resolved: '已解决',
      closed: '已关闭',
      note: '备注',
      reopened: '重新打开',
      relapse: '再次发生',
      covered: '已涵盖',
      uncovered: '不再涵盖',
      'sla-warning': '时限将至',
      'sla-breach': '时限已过',
      paused: '计时暂停',
      resumed: '计时恢复',
      priority: '优先级变更',
      notified: '已通知',
      'notify-failed': '通知失败',
      replaced: '更换部件',
      warranty: '质保重计',
      'part-needed': '需要备件',
      'part-shipped': '备件发货',
    },
    system: 'Vigil 系统',
    fault: {
      'device-down': '设备离线',
      'site-unreachable': '站点失联',
      'site-outage': '站点大面积故障',
      flapping: '频繁故障',
      manual: '人工报修',
    },
  },
};
