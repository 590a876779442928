/** English texts of the time-zone picker in the header; zone-zh-CN.ts has the same keys. */
export const zoneEn = {
  /** The picker's label: the zone every time on the screens is shown in. */
  label: 'Time zone of the screens',
  /** The default: whatever zone this browser's computer is set to. */
  browser: (zone: string) => `This browser's (${zone})`,
  /** Beside a form's date and time inputs: which zone what is typed there is read in. */
  enteredIn: (zone: string) =>
    `Dates and times entered here are in ${zone}, the time zone of the screens (chosen at the top).`,
};
