/** 简体中文：控制台的中文界面，以及今后交给客户的中文文档。 */
import type { Catalogue } from './catalogue.js';
import type { GatewayProblem, Named } from './messages.js';

const kind = { camera: '摄像机', nvr: '录像机' } as const;

const device = (n: Named) => `${kind[n.kind]}“${n.name}”（${n.device}）`;

type Hot = Extract<GatewayProblem, { what: 'temperature' }>;
const isHot = (p: GatewayProblem): p is Hot => p.what === 'temperature';
/** 温度精确到 0.1 度，整数不带“.0”。 */
const celsius = (c: number) => `${Math.round(c * 10) / 10} °C`;

const problems = (list: readonly GatewayProblem[]) =>
  list
    .map((p) =>
      p.what === 'cpu'
        ? `CPU 负载 ${p.pct.toFixed(0)}%`
        : p.what === 'temperature'
          ? `温度 ${celsius(p.celsius)}（上限 ${celsius(p.limitC)}）`
          : `${p.what === 'memory' ? '内存' : '磁盘'}已用 ${p.pct.toFixed(0)}%`,
    )
    .join('，');

/** 标题里网关的状况：资源不足、温度过高，或两者兼有。 */
const gatewayState = (list: readonly GatewayProblem[]) => {
  const hot = list.some(isHot);
  const short = list.some((p) => !isHot(p));
  if (hot && short) return '资源不足且温度过高';
  return hot ? '温度过高' : '资源不足';
};

/** 读数、上限，以及到现场该做什么。 */
const heatAdvice = (p: Hot) =>
  `采集网关温度过高：${celsius(p.celsius)}，超过上限 ${celsius(p.limitC)}。请到现场检查通风：` +
  `清除通风口和风扇上的积尘，设备四周留出散热空间，机箱避免阳光直射（遮阳或加装风扇）；` +
  `无风扇网关约 85 °C 起降频，更高时会关机`;

const priority = { emergency: '紧急', serious: '严重', general: '一般' } as const;

const withNote = (text: string, note: string | undefined) => (note ? `${text}：${note}` : text);

/** 天数精确到 0.1 天，整数不带“.0”（采集端按 0.1 天测量）。 */
const days = (n: number) => `${Math.round(n * 10) / 10}`;

/** 日期按中文习惯书写：2027-01-15 写作“2027年1月15日”。 */
const chineseDay = (day: string) => {
  const [y, m, d] = day.split('-');
  return y && m && d ? `${y}年${Number(m)}月${Number(d)}日` : day;
};

export const zhCN: Catalogue = {
  labels: {
    kind,
    reasons: {
      unreachable: '无法连接',
      timeout: '应答超时',
      'auth-failed': '监控账号密码被拒绝',
      'protocol-error': 'ONVIF 应答异常',
      'clock-drift': '时钟偏差',
      'slow-response': '响应缓慢',
      'device-replaced': '设备已更换',
      'firmware-changed': '固件已变更',
      'stream-down': '视频流中断',
      'snapshot-failed': '无法抓图',
      'picture-black': '黑屏',
      'picture-covered': '镜头被遮挡',
      'picture-frozen': '画面冻结',
      'picture-blurred': '画面模糊',
      'video-loss': '视频丢失',
      tampering: '人为破坏',
      'recording-stopped': '录像停止',
      'storage-failure': '存储故障',
      'storage-full': '存储已满',
      'retention-short': '录像保存天数不足',
      'hardware-failure': '硬件故障',
      'certificate-changed': '证书已变更',
      'certificate-untrusted': '证书不受信任',
    },
    deadline: {
      respond: '响应',
      'on-site': '到场',
      resolve: '解决',
      'part-replaced': '备件更换',
      'part-shipped': '备件发货',
    },
    // 原因的见证者：摄像机所接的录像机（agent/behind-nvr.ts）。
    seenBy: (device) => `由录像机 ${device} 发现`,
  },
  messages: {
    'title.device-down': (p, s) =>
      `${device(p)}故障离线：${p.reason ? s.reason(p.reason) : '未上报原因'}`,
    'title.flapping': (p) => `${device(p)}频繁故障`,
    'title.retention-short': (p) =>
      `${device(p)}：录像仅保存 ${days(p.days)} 天，合同要求 ${days(p.goal)} 天`,
    'title.degraded': (p, s) => `${device(p)}：${s.reason(p.code)}`,
    'title.site-unreachable': (p) => `站点 ${p.site} 失联：采集网关 ${p.agent} 离线`,
    'title.site-outage': (p) => `站点 ${p.site}：${p.cameras} 台摄像机中 ${p.down} 台同时故障`,
    'title.gateway-resources': (p) =>
      `站点采集网关 ${p.agent} ${gatewayState(p.problems)}：${problems(p.problems)}`,

    'title.manual': (p) => p.text,

    'detected.device-down': (p, s) =>
      `设备故障${p.witness ? `（${s.labels.seenBy(p.witness)}）` : ''}：` +
      `${p.messages.join('；') || '未上报原因'}` +
      (p.alsoDown && p.alsoDown.length > 0 ? `；同时故障：${p.alsoDown.join('、')}` : ''),
    'detected.degraded': (p, s) =>
      `性能下降（${s.reason(p.code)}）：${
        p.lines
          .map((l) => {
            const text = l.witness ? `${l.text}（${s.labels.seenBy(l.witness)}）` : l.text;
            return l.channel ? `${l.channel}：${text}` : text;
          })
          .join('；') || p.code
      }`,
    'detected.certificate-changed': (p) =>
      `设备出示了不同的 HTTPS 证书，Vigil 已停止与其通信。` +
      `已固定的 SHA-256：${p.pinned}；当前出示：${p.presented}。` +
      `如设备已更换或证书已更新，请接受新证书（设备页面，或在网关上执行 vigil agent trust）；` +
      `否则请排查站点网络中是否有冒充设备`,
    'detected.credentials-rejected': (p) =>
      `监控账号密码被拒绝：${p.lines.map((l) => l.text).join('；') || '无详情'}。` +
      `设备仍有应答，不计入停机时间（很可能仍在录像），但 Vigil 无法检查其视频流、画面和录像。` +
      `请在采集网关的代理配置（或其密码文件）中更新该设备的密码，或为该账号授予所缺的权限`,
    'detected.flapping': (p) => `频繁故障：${p.windowMin} 分钟内故障 ${p.count} 次`,
    'detected.retention-short': (p) =>
      `保存时间最短的通道最早录像距今 ${days(p.days)} 天，合同要求 ${days(p.goal)} 天。` +
      `录像机覆盖过早：请增加或更换硬盘，降低摄像机码率或帧率，或在允许处改为移动侦测录像`,
    'detected.site-unreachable': (p) =>
      `站点采集网关 ${p.agent} 离线（${
        p.silentS !== undefined ? `${p.silentS} 秒无消息` : (p.reason ?? '连接中断')
      }）：在它恢复之前，其下 ${p.devices} 台设备无人监测`,
    'detected.site-outage': (p) =>
      `${p.cameras} 台摄像机中 ${p.down.length} 台同时故障：${p.down.join('、')}`,
    'detected.gateway-resources': (p) => {
      const short = p.problems.filter((x) => !isHot(x));
      const hot = p.problems.find(isHot);
      return [
        ...(short.length > 0 || !hot ? [`采集网关资源不足：${problems(short)}`] : []),
        ...(hot ? [heatAdvice(hot)] : []),
      ].join('。');
    },

    'reported.manual': (p) =>
      `${p.by} 开单，${p.via === 'portal' ? '客户通过门户报修' : '电话报修'}` +
      (p.description ? `：${p.description}` : ''),

    'resolved.device-up': () => '自动解决：设备已恢复',
    'resolved.not-reported': () => '自动解决：设备不再上报该问题',
    'resolved.gateway-ok': () => '自动解决：采集网关资源与温度已恢复正常',
    'resolved.agent-back': () => '自动解决：站点采集网关已重新上线',
    'resolved.flapping-calm': (p) => `自动解决：${p.windowMin} 分钟内未再故障`,
    'resolved.retention-ok': (p) =>
      `自动解决：录像保存 ${days(p.days)} 天，合同要求 ${days(p.goal)} 天`,
    'resolved.outage-over': (p) => `自动解决：仍有 ${p.stillDown} 台摄像机故障`,
    'folded.site-outage': (p) => `并入站点工单：站点 ${p.site} 有 ${p.cameras} 台摄像机同时故障`,

    'ticket.reopened': (p, s) => `故障在解决 ${p.minutes} 分钟后再次出现：${s.say(p.detail)}`,
    'ticket.covered': (p) =>
      [
        ...(p.added.length > 0 ? [`新增涵盖 ${p.added.join('、')}`] : []),
        ...(p.gone.length > 0 ? [`不再涵盖 ${p.gone.join('、')}（已恢复）`] : []),
      ].join('；') + '。',
    'ticket.paused': () => 'SLA 计时暂停：维护窗口',
    'ticket.resumed': () => 'SLA 计时恢复：维护结束',
    'ticket.sla-warning': (p, s) =>
      `${s.labels.deadline[p.deadline] ?? p.deadline}时限将到：剩余 ${p.leftMin} 分钟`,
    'ticket.sla-breach': (p, s) =>
      `升级处理：${s.labels.deadline[p.deadline] ?? p.deadline}时限（${p.due}）已过`,

    'step.acknowledged': (p) => withNote('已响应', p.note),
    'step.dispatched': (p) => withNote(`已派工程师 ${p.engineer}`, p.note),
    'step.on-site': (p) => withNote('工程师已到场', p.note),
    'step.resolved': (p) => `已解决。原因：${p.cause}。处理：${p.fix}`,
    'step.closed': (p) => `已关闭，客户确认：${p.confirmation}`,
    'step.note': (p) => p.text,

    'part.replaced': (p) =>
      withNote(
        `已更换部件 ${p.part}` +
          (p.oldSerial || p.newSerial
            ? `，序列号 ${p.oldSerial ?? '?'} → ${p.newSerial ?? '?'}`
            : '') +
          (p.depot ? `，取自备件库 ${p.depot}` : '') +
          (p.warranty ? '（保修维修）' : ''),
        p.note,
      ),
    'part.detected': (p) => `设备已更换：序列号 ${p.oldSerial} → ${p.newSerial}`,
    'part.warranty-repair': (p) => `部件 ${p.part} 的更换已记为保修维修`,
    'part.warranty-restarted': (p) =>
      `质保期重新计算：${p.startsOn} 至 ${p.endsOn}（${p.years} 年）`,
    'part.needed': (p) =>
      withNote(
        p.stocked
          ? `需要备件 ${p.part}，备件库 ${p.depots.join('、')} 有货：应在 ${p.hours} 小时内更换`
          : `需要备件 ${p.part}，各备件库均无货：应在 ${p.hours} 小时内发货`,
        p.note,
      ),
    'part.shipped': (p) => withNote('备件已发货', p.note),

    'notify.subject': (p, s) => {
      const stage = {
        opened: '新工单',
        unacknowledged: '仍未响应',
        'sla-warning': `${s.labels.deadline[p.deadline ?? ''] ?? p.deadline ?? ''}时限将到`,
        'sla-breach': `${s.labels.deadline[p.deadline ?? ''] ?? p.deadline ?? ''}时限已过`,
      }[p.stage];
      return `【${priority[p.priority]}】#${p.id} ${stage}：${s.say(p.title)}`;
    },
    'notify.body': (p) =>
      [
        `- **客户**：${p.customer || '-'}`,
        `- **站点**：${p.site}`,
        ...(p.device ? [`- **设备**：${p.device}`] : []),
        `- **故障**：${p.fault}`,
        ...(p.to.length > 0 ? [`- **通知**：${p.to.join('、')}`] : []),
        ...(p.respondBy ? [`- **响应时限**：${p.respondBy}`] : []),
        ...(p.onSiteBy ? [`- **到场时限**：${p.onSiteBy}`] : []),
        ...(p.resolveBy ? [`- **解决时限**：${p.resolveBy}`] : []),
        '',
        p.ticketUrl && p.ackUrl
          ? `[查看工单](${p.ticketUrl}) · [确认响应](${p.ackUrl})`
          : '无链接：未设置服务端参数 notify.publicUrl（人员访问平台所用的地址）。',
      ].join('\n'),
    'notify.digest-subject': (p) => `汇总：${p.count} 条通知`,
    'notify.channel-alert': (p) =>
      p.refused
        ? `通知渠道“${p.channel}”拒绝了通知（${p.code}：${p.message}），通常是令牌已撤销、密钥已更改或机器人已删除；其通知暂改经其他渠道发送。请检查该渠道的设置。`
        : `通知渠道“${p.channel}”已连续 ${p.minutes} 分钟发送失败（${p.code}：${p.message}）；其通知正在排队重试。请检查该渠道的设置及其服务。`,
    'notify.nowhere': (p) =>
      p.channel !== undefined
        ? `渠道 ${p.channel} 拒绝了此通知且无其他启用的渠道：未通知到任何人。请修复该渠道或添加其他渠道`
        : '没有渠道能通知此站点：未通知到任何人。请为其团队配置渠道，或将某个渠道设为默认',
    'notify.fallback': (p) => `渠道 ${p.channel} 拒绝了此通知，已改经 ${p.to.join('、')} 发送`,
    'notify.sent': (p) =>
      `${p.repeat ? '重启后再次通知' : '已通知'}，渠道 ${p.channel}${p.to.length > 0 ? `：${p.to.join('、')}` : ''}`,
    'notify.failed': (p) =>
      `经渠道 ${p.channel}${p.to.length > 0 ? `通知 ${p.to.join('、')}` : '的通知'}失败（${p.code}：${p.message}）${p.final ? '，已放弃' : '，将重试'}`,
    'ack.heading': (p) => `确认响应工单 #${p.id}`,
    'ack.button': () => '确认响应',
    'ack.name': () => '您的姓名',
    'ack.done': (p) => `已由 ${p.by} 确认响应，升级通知停止。`,
    'ack.already': (p) =>
      `该工单当前状态为“${p.status}”${p.by ? `（${p.by} 已响应）` : ''}，无需操作。`,
    'ack.used': () => '此链接已使用过。请在控制台中查看工单。',
    'ack.expired': () => '此链接已过期。请在控制台中确认响应该工单。',
    'ack.invalid': () => '此链接无效（不完整，或来自其他服务器）。请在控制台中查看工单。',
    // 评测和改进意见：先写本期数据，再写建议，按维保工程师写巡检报告的习惯。
    'advice.frequent-failures': (p) =>
      `${device(p)}本期故障 ${p.outages} 次，累计停机 ${p.downMin} 分钟，最长一次 ${p.longestMin} 分钟。` +
      `建议检查${p.kind === 'camera' ? '网线、水晶头及交换机 PoE 供电端口' : '电源及硬盘状态'}。`,
    'advice.low-availability': (p) =>
      `${device(p)}本期可用率 ${p.availabilityPct}%，故障 ${p.outages} 次，累计停机 ${p.downMin} 分钟。` +
      `建议查明故障原因并及时处理。`,
    'advice.warranty-ending': (p) =>
      `${device(p)}质保期将于 ${chineseDay(p.endsOn)}届满。建议提前安排续保或备足备件。`,
    'advice.retention-below-goal': (p) =>
      `${device(p)}录像最短仅保存 ${days(p.days)} 天，低于合同要求的 ${days(p.goal)} 天。` +
      `建议扩容硬盘或降低摄像机码率。`,
    'advice.clock-drift': (p) =>
      `${device(p)}时钟偏差最大 ${p.offsetS} 秒。建议将其校时服务器设为站点的 NTP 服务器。`,
    'advice.sla-breaches': (p) =>
      `${priority[p.priority]}工单本期有 ${p.breached} 项时限超时（按时完成 ${p.met} 项）。` +
      `建议检查值班安排及到场路程时间。`,
    text: (p) => p.text,
  },
};
