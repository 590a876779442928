/**
 * English texts of the wall's emergency alarm, kept beside en.ts so that the catalog
 * holds them under `wall.alarm`; alarm-zh-CN.ts has the same keys.
 */
export const alarmEn = {
  /** The banner's heading: how many emergencies nobody has acknowledged yet. */
  heading: (n: number) =>
    n === 1 ? 'Emergency not acknowledged' : `${n} emergencies not acknowledged`,
  site: 'Site',
  device: 'Device',
  fault: 'Fault',
  /** Under the banner: what makes it stop. */
  hint: 'The alarm stops by itself once every emergency is acknowledged, here or anywhere.',
  enableSound: 'Click to enable the alarm sound',
  soundBlocked:
    'The browser keeps the alarm silent until someone clicks on this page: click the button.',
  soundUnsupported: 'This browser cannot play the alarm sound (no Web Audio).',
  mute: 'Mute this alarm',
  muted: 'Muted: a new emergency sounds again.',
  sounding: 'Alarm sounding',
  notifications: {
    on: 'Desktop notifications: on',
    off: 'Desktop notifications: off',
    denied:
      'Desktop notifications are blocked for this site: allow them in the browser settings (the icon left of the address).',
    unsupported: 'This browser has no desktop notifications.',
    hint: 'A notification for each new emergency while this tab is hidden; click it to open the ticket.',
  },
  /** The desktop notification's title. */
  notice: (id: number) => `Emergency #${id}`,
};
