/**
 * Issued inspection reports over HTTP (issue 16 part 4, shared/api/issued-reports.ts):
 * issue a period's report (operator or admin), list the versions per site and per
 * customer, read one version as JSON, HTML or PDF, and record the customer's sign-off.
 * Every issue and sign-off is in the audit trail. The rules are
 * broker/inspection/issued/service.ts's.
 *
 * Customer portal (issue 16 part 5): every route here but issuing is one a customer's
 * account reaches for its own sites (list, read, PDF, sign off); each names the site (or
 * the customer) in its path, which the scope guard checks (broker/api/scope.ts). Beyond
 * that, a customer sees only the versions issued to it: a site moved from another
 * customer keeps that customer's reports out of sight. Who may sign is `signerOf`'s rule.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ApiError } from '../../shared/api/common.js';
import { CustomerParams } from '../../shared/api/customers.js';
import {
  IssuedListQuery,
  IssuedReport,
  IssuedReportList,
  IssuedReportParams,
  IssuedReportSummary,
  IssueRequest,
  issuedReportRoutes,
  SignOff,
  SignOffRequest,
} from '../../shared/api/issued-reports.js';
import { SiteParams } from '../../shared/api/sites.js';
import type { AuditStore } from '../audit-trail.js';
import type { SqlDatabase } from '../sql/types.js';
import { renderInspectionHtml } from '../inspection/html.js';
import { ChromiumPdfPrinter, type PdfPrinter } from '../inspection/issued/pdf.js';
import { IssuedReports } from '../inspection/issued/service.js';
import { IssuedReportStore, notIssued } from '../inspection/issued/store.js';
import type { CustomerStore } from '../customers/store.js';
import { buildSiteReport, type InspectionRoutesOptions } from './inspection.js';
import { requireOwnCustomer, seesCustomer, viewOf } from './scope.js';
import { requireRole } from './tickets.js';
import type { SessionUser } from './users.js';

export interface IssuedReportRoutesOptions {
  issuing: IssuedReports;
  store: IssuedReportStore;
  customers: CustomerStore;
  audit?: AuditStore;
}

/**
 * The store (its tables made here) and the issuing service over the live report's parts:
 * the same report the inspection route computes, rendered by the same page.
 */
export async function issuedReportOptions(
  reports: InspectionRoutesOptions,
  db: SqlDatabase,
  printer: PdfPrinter = new ChromiumPdfPrinter(),
): Promise<IssuedReportRoutesOptions> {
  const { desk } = reports;
  const store = new IssuedReportStore(db);
  await store.start();
  const issuing = new IssuedReports({
    store,
    printer,
    site: (siteId) => desk.sites.get(siteId),
    customerOf: (siteId) => desk.customers.forSite(siteId),
    timeZoneOf: (siteId) => desk.customers.timeZoneOf(siteId),
    build: async (siteId, period, locale) =>
      (await buildSiteReport(reports, siteId, period, true, locale)).report,
    render: (report, locale) => renderInspectionHtml(report, locale),
    ...(reports.now ? { now: reports.now } : {}),
  });
  return { issuing, store, customers: desk.customers, audit: desk.audit };
}

/**
 * Who may record a sign-off of a report: the one place for that rule. NOC staff (operator,
 * admin) record it from the signed paper copy; a customer's account signs in the portal a
 * report issued to its own customer (the site is its own: the scope guard checked the
 * path; `visible` checked the version).
 */
function signerOf(request: FastifyRequest): SessionUser {
  const user = request.user;
  if (user?.role === 'customer') return user;
  return requireRole(request, 'operator', 'Recording a sign-off');
}

/** Whether the request may see a version: the staff every one, a customer those issued to it. */
const visible = (request: FastifyRequest, report: IssuedReportSummary) =>
  viewOf(request) === null ||
  (report.customerId !== null && seesCustomer(request, report.customerId));

/** The same 404 as a version never issued, so a customer cannot learn what exists. */
async function requireVisible(
  request: FastifyRequest,
  store: IssuedReportStore,
  p: { site: string; period: string; version: number },
): Promise<void> {
  const report = await store.summary(p.site, p.period, p.version);
  if (!visible(request, report)) throw notIssued(p.site, p.period, p.version);
}

/** A file name a browser saves: site, period and version, nothing a person typed. */
const fileName = (p: { site: string; period: string; version: number }, ext: string) =>
  `inspection-${p.site}-${p.period}-v${p.version}.${ext}`;

export const issuedReportRoutesPlugin: FastifyPluginAsyncTypebox<
  IssuedReportRoutesOptions
> = async (app, { issuing, store, customers, audit }) => {
  const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError };
  const tags = ['inspection'];

  app.post(
    issuedReportRoutes.site,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          "Issues a period's inspection report (operator or admin): frozen with its HTML and PDF as the next version",
        tags,
        params: SiteParams,
        body: IssueRequest,
        response: { 201: IssuedReportSummary, ...errors, 409: ApiError, 503: ApiError },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator', 'Issuing a report');
      const { site } = request.params;
      const issued = await issuing.issue(
        site,
        request.body.period,
        user.username,
        request.body.locale,
      );
      await audit?.add(user.username, 'inspection.issue', `site:${site}`, {
        period: issued.period,
        version: issued.version,
        locale: issued.locale,
        pdfSha256: issued.pdfSha256,
      });
      return reply.code(201).send(issued);
    },
  );

  app.get(
    issuedReportRoutes.site,
    {
      config: { scope: 'customer' },
      schema: {
        summary: "A site's issued reports, newest period and version first (?period= for one)",
        tags,
        params: SiteParams,
        querystring: IssuedListQuery,
        response: { 200: IssuedReportList, ...errors },
      },
    },
    async (request) =>
      (await store.forSite(request.params.site, request.query.period)).filter((report) =>
        visible(request, report),
      ),
  );

  app.get(
    issuedReportRoutes.customer,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'Every report issued to the customer, newest first',
        tags,
        params: CustomerParams,
        response: { 200: IssuedReportList, ...errors },
      },
    },
    async (request) => {
      requireOwnCustomer(request, request.params.id);
      customers.require(request.params.id);
      return store.forCustomer(request.params.id);
    },
  );

  app.get(
    issuedReportRoutes.one,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'One issued version with its report as it was frozen, and its sign-offs',
        tags,
        params: IssuedReportParams,
        response: { 200: IssuedReport, ...errors },
      },
    },
    async (request, reply) => {
      const { site, period, version } = request.params;
      await requireVisible(request, store, request.params);
      // As the live report: JSON.stringify, not the schema's serializer (broker/api/inspection.ts).
      return reply.serializer(JSON.stringify).send(await store.get(site, period, version));
    },
  );

  app.get(
    issuedReportRoutes.html,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The printable page of an issued version, as it was issued',
        tags,
        params: IssuedReportParams,
        response: {
          200: { description: 'HTML', content: { 'text/html': { schema: Type.String() } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { site, period, version } = request.params;
      await requireVisible(request, store, request.params);
      return (
        reply
          .type('text/html; charset=utf-8')
          // A frozen document: its own styles and inline images, never a script or a request
          // elsewhere, whatever a site or device name held (CSP Level 3, default-src).
          .header(
            'content-security-policy',
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
          )
          .header('x-content-type-options', 'nosniff')
          .send(await store.html(site, period, version))
      );
    },
  );

  app.get(
    issuedReportRoutes.pdf,
    {
      config: { scope: 'customer' },
      schema: {
        summary: 'The PDF of an issued version, as it was issued',
        tags,
        params: IssuedReportParams,
        response: {
          200: {
            description: 'PDF',
            // The bytes as they are (OpenAPI 3.0: a binary string).
            content: {
              'application/pdf': {
                schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
              },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const params = request.params;
      await requireVisible(request, store, params);
      const pdf = await store.pdf(params.site, params.period, params.version);
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${fileName(params, 'pdf')}"`)
        .send(pdf);
    },
  );

  app.post(
    issuedReportRoutes.signOffs,
    {
      config: { scope: 'customer' },
      schema: {
        summary:
          "Records the customer's sign-off of an issued version: who signed, the day, remarks",
        tags,
        params: IssuedReportParams,
        body: SignOffRequest,
        response: { 201: SignOff, ...errors },
      },
    },
    async (request, reply) => {
      const { site, period, version } = request.params;
      await requireVisible(request, store, request.params);
      const user = signerOf(request);
      const signed = await issuing.signOff(site, period, version, request.body, user.username);
      await audit?.add(user.username, 'inspection.sign-off', `site:${site}`, {
        period,
        version,
        name: signed.name,
        signedOn: signed.signedOn,
        remarks: signed.remarks,
      });
      return reply.code(201).send(signed);
    },
  );
};
