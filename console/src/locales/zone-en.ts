/** English texts of the time-zone picker in the header; zone-zh-CN.ts has the same keys. */
export const zoneEn = {
  /** The picker's label: the zone every time on the screens is shown in. */
  label: 'Time zone of the screens',
  /** The default: whatever zone this browser's computer is set to. */
  browser: (zone: string) => `This browser's (${zone})`,
};
