/**
 * Issued inspection reports, kept for good (issue 16 part 4; the contract: the results of
 * each inspection are kept by both sides). A row is one version of one site's period: the
 * report as computed when it was issued (JSON), the page printed from it (HTML) and the
 * PDF chromium made of that page, with the customer's sign-offs beside it. Nothing is
 * changed in place: reissuing adds the next version, a sign-off adds a row; SQLite
 * triggers refuse any UPDATE or DELETE, so no later code path can quietly rewrite what a
 * customer signed.
 *
 * The PDF is a BLOB in this table, not a file in the data folder: the row and its PDF are
 * written in one transaction (no row without its file, no file without its row after a
 * crash), and `vigil backup` of vigil.db keeps them together. Its SHA-256 is kept too, so
 * the copy a customer holds can be checked against ours. A report is some 50-300 KB: 50
 * sites with 16 reports a year add a few hundred MB a year, well within SQLite.
 */
import { createHash } from 'node:crypto';
import type { CustomerLocale } from '../../../shared/api/customers.js';
import type { InspectionReport } from '../../../shared/api/inspection.js';
import type {
  IssuedReport,
  IssuedReportSummary,
  SignOff,
} from '../../../shared/api/issued-reports.js';
import { VigilError } from '../../../shared/errors.js';
import { migrate, type Db, type Migration } from '../../db.js';

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE issued_reports (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        site_id TEXT NOT NULL,
        site_name TEXT NOT NULL,
        customer_id TEXT,
        customer_name TEXT NOT NULL,
        period TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        issued_at TEXT NOT NULL,
        issued_by TEXT NOT NULL,
        locale TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        report_json TEXT NOT NULL,
        html TEXT NOT NULL,
        pdf BLOB NOT NULL,
        pdf_sha256 TEXT NOT NULL,
        UNIQUE (site_id, period, version)
      );
      CREATE INDEX issued_reports_customer ON issued_reports (customer_id, issued_at);
      CREATE TABLE issued_report_sign_offs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        report_id INTEGER NOT NULL REFERENCES issued_reports (id),
        name TEXT NOT NULL,
        signed_on TEXT NOT NULL,
        remarks TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE INDEX issued_report_sign_offs_report ON issued_report_sign_offs (report_id, id);
      CREATE TRIGGER issued_reports_frozen BEFORE UPDATE ON issued_reports
        BEGIN SELECT RAISE(ABORT, 'an issued report is never changed: issue a new version'); END;
      CREATE TRIGGER issued_reports_kept BEFORE DELETE ON issued_reports
        BEGIN SELECT RAISE(ABORT, 'an issued report is kept: both sides keep the results'); END;
      CREATE TRIGGER issued_report_sign_offs_frozen BEFORE UPDATE ON issued_report_sign_offs
        BEGIN SELECT RAISE(ABORT, 'a sign-off is never changed: record another'); END;
      CREATE TRIGGER issued_report_sign_offs_kept BEFORE DELETE ON issued_report_sign_offs
        BEGIN SELECT RAISE(ABORT, 'a sign-off is kept'); END;
    `,
  },
];

/** What issuing stores: everything but the version, the hash and the sign-offs. */
export interface NewIssuedReport {
  siteId: string;
  siteName: string;
  customerId: string | null;
  customerName: string;
  period: string;
  issuedAt: string;
  issuedBy: string;
  locale: CustomerLocale;
  timeZone: string;
  report: InspectionReport;
  html: string;
  pdf: Buffer;
}

export interface NewSignOff {
  name: string;
  signedOn: string;
  remarks: string;
  recordedBy: string;
  recordedAt: string;
}

interface Row {
  id: number;
  site_id: string;
  site_name: string;
  customer_id: string | null;
  customer_name: string;
  period: string;
  version: number;
  issued_at: string;
  issued_by: string;
  locale: CustomerLocale;
  time_zone: string;
  pdf_bytes: number;
  pdf_sha256: string;
}

interface SignOffRow {
  id: number;
  report_id: number;
  name: string;
  signed_on: string;
  remarks: string;
  recorded_by: string;
  recorded_at: string;
}

/** The columns of a summary: never the report, the HTML or the PDF, which a list does not need. */
const SUMMARY = `id, site_id, site_name, customer_id, customer_name, period, version, issued_at,
  issued_by, locale, time_zone, length(pdf) AS pdf_bytes, pdf_sha256`;

/** The 404 of a version never issued (and of one a customer may not see: the same words). */
export function notIssued(siteId: string, period: string, version: number): VigilError {
  return new VigilError(
    'VIGIL_NOT_FOUND',
    `No version ${version} of ${siteId}'s report ${period} was issued; GET /api/sites/${siteId}/inspection/issued lists the issued ones.`,
  );
}

export class IssuedReportStore {
  constructor(private readonly db: Db) {}

  start(): void {
    migrate(this.db, 'issued-reports', migrations);
  }

  /** Stores the next version of the site's period (1 for the first) and answers it. */
  add(issued: NewIssuedReport): IssuedReportSummary {
    const sha256 = createHash('sha256').update(issued.pdf).digest('hex');
    const insert = this.db.transaction(() => {
      const { last } = this.db
        .prepare('SELECT max(version) AS last FROM issued_reports WHERE site_id = ? AND period = ?')
        .get(issued.siteId, issued.period) as { last: number | null };
      const version = (last ?? 0) + 1;
      this.db
        .prepare(
          `INSERT INTO issued_reports (site_id, site_name, customer_id, customer_name, period,
             version, issued_at, issued_by, locale, time_zone, report_json, html, pdf, pdf_sha256)
           VALUES (@siteId, @siteName, @customerId, @customerName, @period, @version, @issuedAt,
             @issuedBy, @locale, @timeZone, @report, @html, @pdf, @sha256)`,
        )
        .run({
          ...issued,
          version,
          report: JSON.stringify(issued.report),
          sha256,
        });
      return version;
    });
    const version = insert.immediate();
    return this.summary(issued.siteId, issued.period, version);
  }

  /** One version without its contents; VIGIL_NOT_FOUND naming the list when there is none. */
  summary(siteId: string, period: string, version: number): IssuedReportSummary {
    return this.view(this.row(siteId, period, version));
  }

  /** One version with the report as it was frozen. */
  get(siteId: string, period: string, version: number): IssuedReport {
    const row = this.row(siteId, period, version);
    const { report_json } = this.db
      .prepare('SELECT report_json FROM issued_reports WHERE id = ?')
      .get(row.id) as { report_json: string };
    return { ...this.view(row), report: JSON.parse(report_json) as InspectionReport };
  }

  html(siteId: string, period: string, version: number): string {
    return this.content(siteId, period, version, 'html') as string;
  }

  pdf(siteId: string, period: string, version: number): Buffer {
    return this.content(siteId, period, version, 'pdf') as Buffer;
  }

  /** A site's versions, newest period first, then newest version; one period's with `period`. */
  forSite(siteId: string, period?: string): IssuedReportSummary[] {
    const rows = this.db
      .prepare(
        `SELECT ${SUMMARY} FROM issued_reports WHERE site_id = @siteId
           AND (@period IS NULL OR period = @period)
         ORDER BY period DESC, version DESC`,
      )
      .all({ siteId, period: period ?? null }) as Row[];
    return this.views(rows);
  }

  /** Every version issued to a customer (its customer when issued), newest first. */
  forCustomer(customerId: string): IssuedReportSummary[] {
    const rows = this.db
      .prepare(
        `SELECT ${SUMMARY} FROM issued_reports WHERE customer_id = ?
         ORDER BY issued_at DESC, id DESC`,
      )
      .all(customerId) as Row[];
    return this.views(rows);
  }

  /** Adds a sign-off to a version: the only write after issuing. */
  signOff(siteId: string, period: string, version: number, signOff: NewSignOff): SignOff {
    const row = this.row(siteId, period, version);
    const { lastInsertRowid } = this.db
      .prepare(
        `INSERT INTO issued_report_sign_offs (report_id, name, signed_on, remarks, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        signOff.name,
        signOff.signedOn,
        signOff.remarks,
        signOff.recordedBy,
        signOff.recordedAt,
      );
    return { id: Number(lastInsertRowid), ...signOff };
  }

  private row(siteId: string, period: string, version: number): Row {
    const row = this.db
      .prepare(
        `SELECT ${SUMMARY} FROM issued_reports WHERE site_id = ? AND period = ? AND version = ?`,
      )
      .get(siteId, period, version) as Row | undefined;
    if (row === undefined) throw notIssued(siteId, period, version);
    return row;
  }

  private content(
    siteId: string,
    period: string,
    version: number,
    column: 'html' | 'pdf',
  ): string | Buffer {
    const { id } = this.row(siteId, period, version);
    const found = this.db
      .prepare(`SELECT ${column} AS content FROM issued_reports WHERE id = ?`)
      .get(id) as { content: string | Buffer };
    return found.content;
  }

  private views(rows: Row[]): IssuedReportSummary[] {
    if (rows.length === 0) return [];
    const signOffs = new Map<number, SignOff[]>();
    // One query for the sign-offs of every listed version (ids bound as one JSON array).
    const found = this.db
      .prepare(
        `SELECT * FROM issued_report_sign_offs
         WHERE report_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
      )
      .all(JSON.stringify(rows.map((row) => row.id))) as SignOffRow[];
    for (const s of found) {
      const list = signOffs.get(s.report_id) ?? [];
      list.push(signOffView(s));
      signOffs.set(s.report_id, list);
    }
    return rows.map((row) => summaryView(row, signOffs.get(row.id) ?? []));
  }

  private view(row: Row): IssuedReportSummary {
    return this.views([row])[0]!;
  }
}

function signOffView(row: SignOffRow): SignOff {
  return {
    id: row.id,
    name: row.name,
    signedOn: row.signed_on,
    remarks: row.remarks,
    recordedBy: row.recorded_by,
    recordedAt: row.recorded_at,
  };
}

function summaryView(row: Row, signOffs: SignOff[]): IssuedReportSummary {
  return {
    siteId: row.site_id,
    siteName: row.site_name,
    customerId: row.customer_id,
    customerName: row.customer_name,
    period: row.period,
    version: row.version,
    issuedAt: row.issued_at,
    issuedBy: row.issued_by,
    locale: row.locale,
    timeZone: row.time_zone,
    pdfBytes: row.pdf_bytes,
    pdfSha256: row.pdf_sha256,
    signOffs,
  };
}
