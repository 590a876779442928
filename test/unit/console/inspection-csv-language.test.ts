/**
 * The inspection export in the reader's language: its header and the device kind and
 * warranty state in Chinese for the Chinese console, in English for the English one.
 */
import { describe, expect, it } from 'vitest';
import { inspectionCsv } from '../../../console/src/data/inspection.js';
import { deviceInspectionExample } from './inspection-report-example.js';
import { documentWords } from '../../../shared/wording/documents.js';

describe('the inspection export', () => {
  it('has its header and names in the reader language', () => {
    for (const [locale, header, row] of [
      [
        'zh-CN',
        '站点,统计周期,设备编号,名称,类型,可用率（%）,故障次数,累计停机（秒）,平均修复时间（秒）,平均故障间隔（秒）,工单数,固件版本,序列号,质保到期日,质保状态',
        'plant-7,2026-11,cam-01,北门,摄像机,99.5,1,5,5,995,1,5.7.3,,2028-03-15,在保',
      ],
      [
        'en',
        'Site,Period,Device,Name,Kind,Availability (%),Outages,Down (s),MTTR (s),MTBF (s),Tickets,Firmware,Serial number,Warranty ends,Warranty',
        'plant-7,2026-11,cam-01,北门,Camera,99.5,1,5,5,995,1,5.7.3,,2028-03-15,in warranty',
      ],
    ] as const) {
      const words = documentWords[locale];
      const csv = inspectionCsv(deviceInspectionExample, words.inspection.csvColumns, {
        kind: words.kind,
        warranty: words.inspection.warranty,
      });
      expect(csv.split('\r\n').slice(0, 2)).toEqual([header, row]);
    }
  });
});
