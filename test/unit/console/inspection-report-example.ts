/** One device's inspection report, for the export's tests. */
import type { InspectionReport } from '../../../shared/api/inspection.js';

export const deviceInspectionExample: InspectionReport = {
  siteId: 'plant-7',
  siteName: '七号仓库',
  customer: '上海示例物流',
  period: '2026-11',
  timeZone: 'Asia/Shanghai',
  locale: 'zh-CN',
  from: '2026-10-31T16:00:00.000Z',
  to: '2026-11-30T16:00:00.000Z',
  generatedAt: '2026-12-02T08:00:00.000Z',
  availabilityPct: 99.5,
  devices: [
    {
      deviceId: 'cam-01',
      name: '北门',
      kind: 'camera',
      availabilityPct: 99.5,
      observedS: 1000,
      maintenanceS: 0,
      outages: { count: 1, totalS: 5.4, longestS: 5.4 },
      mttrS: 5.4,
      mtbfS: 994.6,
      tickets: 1,
      firmware: '5.7.3',
      serialNumber: null,
      warranty: { endsOn: '2028-03-15', state: 'in-warranty' },
    },
  ],
  tickets: [],
  trends: [],
  inventoryChanges: [],
  warrantyEndingSoon: [],
  suggestions: [],
};
