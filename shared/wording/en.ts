/** English: the broker's API texts, incident reports and webhooks, and the console in English. */
import type { Catalogue } from './catalogue.js';
import type { GatewayProblem, Named } from './messages.js';

const kind = { camera: 'Camera', nvr: 'NVR' } as const;

const device = (n: Named) => `${kind[n.kind]} "${n.name}" (${n.device})`;

/** Mid-sentence, a label loses its capital: "Camera ... : clock drift". */
const lower = (label: string) => label.charAt(0).toLowerCase() + label.slice(1);

type Hot = Extract<GatewayProblem, { what: 'temperature' }>;
const isHot = (p: GatewayProblem): p is Hot => p.what === 'temperature';
/** A temperature to a tenth of a degree, without a trailing ".0". */
const celsius = (c: number) => `${Math.round(c * 10) / 10} °C`;

const problems = (list: readonly GatewayProblem[]) =>
  list
    .map((p) =>
      p.what === 'cpu'
        ? `CPU load ${p.pct.toFixed(0)} %`
        : p.what === 'temperature'
          ? `temperature ${celsius(p.celsius)} (limit ${celsius(p.limitC)})`
          : `${p.what} ${p.pct.toFixed(0)} % used`,
    )
    .join(', ');

/** What the title says of the gateway: short of resources, too hot, or both. */
const gatewayState = (list: readonly GatewayProblem[]) => {
  const hot = list.some(isHot);
  const short = list.some((p) => !isHot(p));
  if (hot && short) return 'is low on resources and overheating';
  return hot ? 'is overheating' : 'is low on resources';
};

/** The reading, the limit and what to do on site (the engineer who reads it goes there). */
const heatAdvice = (p: Hot) =>
  `Gateway overheating: ${celsius(p.celsius)}, its limit is ${celsius(p.limitC)}. Check its ` +
  `ventilation on site: vents and fan free of dust, room around it, a cabinet out of the ` +
  `sun (shade it or add a fan); fanless gateways slow down from about 85 °C and shut down hotter`;

/** Days to a tenth, without a trailing ".0" (the agent measures to a tenth of a day). */
const days = (n: number) => `${Math.round(n * 10) / 10}`;

const priority = { emergency: 'Emergency', serious: 'Serious', general: 'General' } as const;

const withNote = (text: string, note: string | undefined) => (note ? `${text}: ${note}` : text);

export const en: Catalogue = {
  labels: {
    kind,
    reasons: {
      unreachable: 'Unreachable',
      timeout: 'No answer in time',
      'auth-failed': 'Monitoring credentials rejected',
      'protocol-error': 'Bad ONVIF answer',
      'clock-drift': 'Clock drift',
      'slow-response': 'Slow response',
      'device-replaced': 'Device replaced',
      'firmware-changed': 'Firmware changed',
      'stream-down': 'Video stream down',
      'snapshot-failed': 'No snapshot',
      'picture-black': 'Black picture',
      'picture-covered': 'Lens covered',
      'picture-frozen': 'Frozen picture',
      'picture-blurred': 'Blurred picture',
      'video-loss': 'Video loss',
      tampering: 'Tampering',
      'recording-stopped': 'Recording stopped',
      'storage-failure': 'Storage failure',
      'storage-full': 'Storage full',
      'retention-short': 'Recordings not kept long enough',
      'hardware-failure': 'Hardware failure',
      'certificate-changed': 'Certificate changed',
      'certificate-untrusted': 'Certificate not trusted',
    },
    deadline: {
      respond: 'respond',
      'on-site': 'on-site',
      resolve: 'resolve',
      'part-replaced': 'spare part replaced',
      'part-shipped': 'spare part shipped',
    },
    // The witness of a reason is the NVR of a camera behind it (agent/behind-nvr.ts).
    seenBy: (device) => `seen by NVR ${device}`,
  },
  messages: {
    'title.device-down': (p, s) =>
      `${device(p)} is down: ${p.reason ? lower(s.reason(p.reason)) : 'no reason reported'}`,
    'title.flapping': (p) => `${device(p)} fails again and again`,
    'title.retention-short': (p) =>
      `${device(p)}: recordings kept ${days(p.days)} days, the contract says ${days(p.goal)}`,
    'title.degraded': (p, s) => `${device(p)}: ${lower(s.reason(p.code))}`,
    'title.site-unreachable': (p) =>
      `Site ${p.site} is unreachable: gateway agent ${p.agent} is offline`,
    'title.site-outage': (p) => `Site ${p.site}: ${p.down} of ${p.cameras} cameras down at once`,
    'title.gateway-resources': (p) =>
      `Site gateway ${p.agent} ${gatewayState(p.problems)}: ${problems(p.problems)}`,

    'title.manual': (p) => p.text,

    'detected.device-down': (p, s) =>
      `Device down${p.witness ? ` (${s.labels.seenBy(p.witness)})` : ''}: ` +
      `${p.messages.join('; ') || 'no reason reported'}` +
      (p.alsoDown && p.alsoDown.length > 0 ? `; also down: ${p.alsoDown.join(', ')}` : ''),
    'detected.degraded': (p, s) =>
      `Degraded (${lower(s.reason(p.code))}): ${
        p.lines
          .map((l) => {
            const text = l.witness ? `${l.text} (${s.labels.seenBy(l.witness)})` : l.text;
            return l.channel ? `${l.channel}: ${text}` : text;
          })
          .join('; ') || p.code
      }`,
    'detected.certificate-changed': (p) =>
      `The device presents a different HTTPS certificate and Vigil no longer talks to it. ` +
      `Pinned SHA-256 ${p.pinned}; presented ${p.presented}. If the device was replaced or ` +
      `its certificate renewed, accept the new one (device page, or vigil agent trust on ` +
      `the gateway); otherwise suspect an impostor on the site network`,
    'detected.credentials-rejected': (p) =>
      `Monitoring credentials rejected: ${p.lines.map((l) => l.text).join('; ') || 'no detail'}. ` +
      `The device answers and is not counted as down (it most likely still records), but ` +
      `Vigil cannot check its streams, pictures or recordings. Update the device's password ` +
      `in the agent configuration (or its password file), or give the account the rights it lacks`,
    'detected.flapping': (p) =>
      `Frequent failures: failed ${p.count} times within ${p.windowMin} min`,
    'detected.retention-short': (p) =>
      `The oldest recording of its shortest-kept channel is ${days(p.days)} days old; the ` +
      `contract says ${days(p.goal)} days. The recorder overwrites too early: add or replace ` +
      `disks, lower the cameras' bitrate or frame rate, or record on motion where allowed`,
    'detected.site-unreachable': (p) =>
      `Site gateway agent ${p.agent} is offline (${
        p.silentS !== undefined ? `no message for ${p.silentS} s` : (p.reason ?? 'connection lost')
      }): its ${p.devices} devices are not watched until it is back`,
    'detected.site-outage': (p) =>
      `${p.down.length} of ${p.cameras} cameras failed together: ${p.down.join(', ')}`,
    'detected.gateway-resources': (p) => {
      const short = p.problems.filter((x) => !isHot(x));
      const hot = p.problems.find(isHot);
      return [
        ...(short.length > 0 || !hot ? [`Gateway resources low: ${problems(short)}`] : []),
        ...(hot ? [heatAdvice(hot)] : []),
      ].join('. ');
    },

    'reported.manual': (p) =>
      `Ticket opened by ${p.by}, reported ${p.via === 'portal' ? 'through the customer portal' : 'by phone'}` +
      (p.description ? `: ${p.description}` : ''),

    'resolved.device-up': () => 'Resolved automatically: the device is up again',
    'resolved.not-reported': () => 'Resolved automatically: the device no longer reports it',
    'resolved.gateway-ok': () =>
      'Resolved automatically: the gateway has resources again and is not overheating',
    'resolved.agent-back': () => 'Resolved automatically: the site gateway agent is back online',
    'resolved.flapping-calm': (p) => `Resolved automatically: no failure for ${p.windowMin} min`,
    'resolved.retention-ok': (p) =>
      `Resolved automatically: recordings kept ${days(p.days)} days, the contract says ${days(p.goal)}`,
    'resolved.outage-over': (p) => `Resolved automatically: ${p.stillDown} cameras still down`,
    'folded.site-outage': (p) =>
      `Folded into the site ticket: ${p.cameras} cameras of ${p.site} failed at once`,

    'ticket.reopened': (p, s) =>
      `The fault came back ${p.minutes} min after it was resolved: ${s.say(p.detail)}`,
    'ticket.covered': (p) =>
      [
        ...(p.added.length > 0 ? [`now also covers ${p.added.join(', ')}`] : []),
        ...(p.gone.length > 0 ? [`no longer covers ${p.gone.join(', ')} (up again)`] : []),
      ].join('; ') + '.',
    'ticket.paused': () => 'SLA clocks paused: maintenance window',
    'ticket.resumed': () => 'SLA clocks running again: maintenance over',
    'ticket.sla-warning': (p, s) =>
      `The ${s.labels.deadline[p.deadline] ?? p.deadline} deadline is near: ${p.leftMin} min left`,
    'ticket.sla-breach': (p, s) =>
      `Escalation: the ${s.labels.deadline[p.deadline] ?? p.deadline} deadline (${p.due}) passed`,

    'step.acknowledged': (p) => withNote('Acknowledged', p.note),
    'step.dispatched': (p) => withNote(`Engineer ${p.engineer} dispatched`, p.note),
    'step.on-site': (p) => withNote('Engineer on site', p.note),
    'step.resolved': (p) => `Resolved. Cause: ${p.cause}. Fix: ${p.fix}`,
    'step.closed': (p) => `Closed with the customer's confirmation: ${p.confirmation}`,
    'step.note': (p) => p.text,

    'part.replaced': (p) =>
      withNote(
        `Part ${p.part} replaced` +
          (p.oldSerial || p.newSerial
            ? `: serial ${p.oldSerial ?? '?'} → ${p.newSerial ?? '?'}`
            : '') +
          (p.depot ? `, taken from depot ${p.depot}` : '') +
          (p.warranty ? ' (warranty repair)' : ''),
        p.note,
      ),
    'part.detected': (p) => `Device replaced: serial ${p.oldSerial} → ${p.newSerial}`,
    'part.warranty-repair': (p) => `Replacement of ${p.part} recorded as a warranty repair`,
    'part.warranty-restarted': (p) =>
      `Warranty restarted: ${p.startsOn} to ${p.endsOn} (${p.years} years)`,
    'part.needed': (p) =>
      withNote(
        p.stocked
          ? `Spare part ${p.part} needed, in stock at ${p.depots.join(', ')}: to be replaced within ${p.hours} h`
          : `Spare part ${p.part} needed, in no depot: to be shipped within ${p.hours} h`,
        p.note,
      ),
    'part.shipped': (p) => withNote('Spare part shipped', p.note),

    'notify.subject': (p, s) => {
      const stage = {
        opened: 'new ticket',
        unacknowledged: 'not acknowledged yet',
        'sla-warning': `${s.labels.deadline[p.deadline ?? ''] ?? p.deadline ?? ''} deadline near`,
        'sla-breach': `${s.labels.deadline[p.deadline ?? ''] ?? p.deadline ?? ''} deadline passed`,
      }[p.stage];
      return `[${priority[p.priority]}] #${p.id} ${stage}: ${s.say(p.title)}`;
    },
    'notify.body': (p) =>
      [
        `- **Customer**: ${p.customer || '-'}`,
        `- **Site**: ${p.site}`,
        ...(p.device ? [`- **Device**: ${p.device}`] : []),
        `- **Fault**: ${p.fault}`,
        ...(p.to.length > 0 ? [`- **For**: ${p.to.join(', ')}`] : []),
        ...(p.respondBy ? [`- **Respond by**: ${p.respondBy}`] : []),
        ...(p.onSiteBy ? [`- **On site by**: ${p.onSiteBy}`] : []),
        ...(p.resolveBy ? [`- **Resolve by**: ${p.resolveBy}`] : []),
        '',
        p.ticketUrl && p.ackUrl
          ? `[Open the ticket](${p.ticketUrl}) · [Acknowledge](${p.ackUrl})`
          : 'No links: the broker setting notify.publicUrl (its address as people reach it) is not set.',
      ].join('\n'),
    'notify.digest-subject': (p) => `${p.count} notifications`,
    'notify.channel-alert': (p) =>
      p.refused
        ? `Channel "${p.channel}" refused a notification for good (${p.code}: ${p.message}): a revoked token, a changed secret or a deleted robot. Its pages go through other channels meanwhile. Check the channel's settings.`
        : `Channel "${p.channel}" has failed every delivery for ${p.minutes} min (${p.code}: ${p.message}); its notifications wait and are retried. Check the channel's settings and the service.`,
    'notify.nowhere': (p) =>
      p.channel !== undefined
        ? `Channel ${p.channel} refused this notification for good and no other channel is enabled: it reached nobody. Fix the channel or add another`
        : 'No channel reaches this site: nobody was notified. Give its team a channel, or mark a channel default',
    'notify.fallback': (p) =>
      `Channel ${p.channel} refused this notification for good; sent through ${p.to.join(', ')} instead`,
    'notify.sent': (p) =>
      `${p.repeat ? 'Notified again after a restart' : 'Notified'} through ${p.channel}${p.to.length > 0 ? `: ${p.to.join(', ')}` : ''}`,
    'notify.failed': (p) =>
      `Notification through ${p.channel}${p.to.length > 0 ? ` to ${p.to.join(', ')}` : ''} failed (${p.code}: ${p.message})${p.final ? '; given up' : '; retrying'}`,
    'ack.heading': (p) => `Acknowledge ticket #${p.id}`,
    'ack.button': () => 'Acknowledge',
    'ack.name': () => 'Your name',
    'ack.done': (p) => `Acknowledged by ${p.by}. The escalation stops.`,
    'ack.already': (p) =>
      `This ticket is already ${p.status}${p.by ? ` (acknowledged by ${p.by})` : ''}; nothing to do.`,
    'ack.used': () => 'This link was already used. Open the ticket in the console.',
    'ack.expired': () => 'This link has expired. Open the ticket in the console to acknowledge it.',
    'ack.invalid': () =>
      'This link is not valid (cut short, or from another broker). Open the ticket in the console.',
    'advice.frequent-failures': (p) =>
      `${device(p)} failed ${p.outages} times, down ${p.downMin} min in all, the longest ` +
      `${p.longestMin} min: ${p.kind === 'camera' ? 'check its cabling and PoE port' : 'check its power supply and disks'}.`,
    'advice.low-availability': (p) =>
      `${device(p)} was available ${p.availabilityPct} % of the time, down ${p.downMin} min in ` +
      `${p.outages} outage${p.outages === 1 ? '' : 's'}: find the cause.`,
    'advice.warranty-ending': (p) =>
      `${device(p)} leaves warranty on ${p.endsOn}: plan an extension or spare parts.`,
    'advice.retention-below-goal': (p) =>
      `${device(p)} kept ${days(p.days)} days of recordings, below the goal of ${days(p.goal)}: ` +
      `add storage or lower the bitrate.`,
    'advice.clock-drift': (p) =>
      `The clock of ${device(p)} was up to ${p.offsetS} s off: point it at the site's NTP server.`,
    'advice.sla-breaches': (p) =>
      `${p.breached} deadline${p.breached === 1 ? '' : 's'} of ${priority[p.priority].toLowerCase()} ` +
      `tickets missed (${p.met} met): review the duty roster and travel times.`,
    text: (p) => p.text,
  },
};
