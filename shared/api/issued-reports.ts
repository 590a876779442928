/**
 * Issued inspection reports (issue 16 part 4). The contract promises monthly and quarterly
 * inspections whose results both sides keep (../shared/mission/service-commitments.md):
 * issuing a period's report freezes it as it stood (its data, the printable HTML and a
 * PDF), lists it under the customer, and keeps the customer's sign-off (name, the day it
 * was signed, remarks). Reissuing makes version 2, 3, ...; an earlier version stays as it
 * was. Nothing issued is ever changed; a sign-off is added beside it.
 *
 * The paths are in routes.ts (issuedReportRoutes), which the console imports without TypeBox.
 */
import { Type, type Static } from 'typebox';
import { Id, Timestamp } from '../ids.js';
import { Nullable } from './common.js';
import { CustomerLocale } from './customers.js';
import { InspectionReport } from './inspection.js';
import { Day } from './sites.js';

/** A month (2026-11) or a quarter (2026-Q4), in the site's customer's zone. */
export const ReportPeriod = Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2]|Q[1-4])$' });

/**
 * POST /api/sites/:site/inspection/issued (operator or admin): freezes the period's report.
 * `locale` defaults to the customer's language (zh-CN for a site without a customer).
 */
export const IssueRequest = Type.Object(
  { period: ReportPeriod, locale: Type.Optional(CustomerLocale) },
  { additionalProperties: false },
);
export type IssueRequest = Static<typeof IssueRequest>;

/**
 * POST .../sign-offs: the customer's signature as written on the paper or said by the
 * customer: who signed, the day (in the customer's calendar), and remarks, if any.
 */
export const SignOffRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    signedOn: Day,
    remarks: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type SignOffRequest = Static<typeof SignOffRequest>;

export const SignOff = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  signedOn: Day,
  remarks: Type.String(),
  /** The account that recorded it (an operator from the paper copy, or the customer). */
  recordedBy: Type.String(),
  recordedAt: Timestamp,
});
export type SignOff = Static<typeof SignOff>;

/** One issued version, without its contents (the lists). */
export const IssuedReportSummary = Type.Object({
  siteId: Id,
  siteName: Type.String(),
  /** The site's customer when it was issued; a site moved later keeps its reports there. */
  customerId: Nullable(Id),
  customerName: Type.String(),
  period: ReportPeriod,
  version: Type.Integer({ minimum: 1 }),
  issuedAt: Timestamp,
  issuedBy: Type.String(),
  locale: CustomerLocale,
  timeZone: Type.String(),
  /** The PDF's size and SHA-256 (hex): a copy the customer keeps can be checked against it. */
  pdfBytes: Type.Integer({ minimum: 1 }),
  pdfSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  /** Oldest first; empty until the customer signed. */
  signOffs: Type.Array(SignOff),
});
export type IssuedReportSummary = Static<typeof IssuedReportSummary>;
export const IssuedReportList = Type.Array(IssuedReportSummary);

/** GET one version: the summary and the report as it was frozen. */
export const IssuedReport = Type.Intersect([
  IssuedReportSummary,
  Type.Object({ report: InspectionReport }),
]);
export type IssuedReport = Static<typeof IssuedReport>;

export const IssuedReportParams = Type.Object(
  { site: Id, period: ReportPeriod, version: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type IssuedReportParams = Static<typeof IssuedReportParams>;

/** GET /api/sites/:site/inspection/issued?period=: one period's versions, or all. */
export const IssuedListQuery = Type.Object(
  { period: Type.Optional(ReportPeriod) },
  { additionalProperties: false },
);

export { issuedReportPath, issuedReportRoutes } from './routes.js';

export const issuedReportExample: IssuedReportSummary = {
  siteId: 'demo-site',
  siteName: '示范工厂',
  customerId: 'example-logistics',
  customerName: 'Example Logistics Ltd',
  period: '2026-11',
  version: 2,
  issuedAt: '2026-12-02T01:30:00.000Z',
  issuedBy: 'olga',
  locale: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  pdfBytes: 48211,
  pdfSha256: '9f2c1e6b4d0a7c3e5f8b1a2d4c6e8f0a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e',
  signOffs: [
    {
      id: 1,
      name: '王芳',
      signedOn: '2026-12-03',
      remarks: '同意。三号摄像机请尽快更换。',
      recordedBy: 'olga',
      recordedAt: '2026-12-03T06:10:00.000Z',
    },
  ],
};
