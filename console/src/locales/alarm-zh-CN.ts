import type { alarmEn } from './alarm-en.js';

/** 大屏紧急告警的中文文本；与 alarm-en.ts 的键一致。 */
export const alarmZhCN: typeof alarmEn = {
  heading: (n: number) => (n === 1 ? '紧急工单未确认' : `${n} 个紧急工单未确认`),
  site: '站点',
  device: '设备',
  fault: '故障',
  hint: '所有紧急工单被确认后（在此或任何地方），告警自动停止。',
  enableSound: '点击启用告警声音',
  soundBlocked: '浏览器在本页被点击前不允许播放声音：请点击按钮。',
  soundUnsupported: '此浏览器无法播放告警声音（不支持 Web Audio）。',
  mute: '本次告警静音',
  muted: '已静音：新的紧急工单会再次响铃。',
  sounding: '告警响铃中',
  notifications: {
    on: '桌面通知：开',
    off: '桌面通知：关',
    denied: '此网站的桌面通知已被阻止：请在浏览器设置中允许（地址栏左侧的图标）。',
    unsupported: '此浏览器不支持桌面通知。',
    hint: '本标签页隐藏时，每个新的紧急工单发一条通知；点击通知打开工单。',
  },
  notice: (id: number) => `紧急工单 #${id}`,
};
