/**
 * Issued inspection reports, kept for good (issue 16 part 4; the contract: the results of
 * each inspection are kept by both sides). A row is one version of one site's period: the
 * report as computed when it was issued (JSON), the page printed from it (HTML) and the
 * PDF chromium made of that page, with the customer's sign-offs beside it. Nothing is
 * changed in place: reissuing adds the next version, a sign-off adds a row; triggers
 * (SQLite's RAISE, PostgreSQL's plpgsql) refuse any UPDATE or DELETE, so no later code path
 * can quietly rewrite what a customer signed.
 *
 * The PDF is in this table (BLOB, BYTEA), not a file in the data folder: the row and its
 * PDF are written in one transaction (no row without its file, no file without its row
 * after a crash), and `vigil backup` keeps them together (vigil.db, or pg_dump). Its
 * SHA-256 is kept too, so the copy a customer holds can be checked against ours. A report
 * is some 50-300 KB: 50 sites with 16 reports a year add a few hundred MB a year.
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
import type { SqlDatabase, StoreMigration } from '../../sql/types.js';

/** The two tables in either engine's words for an identity, its reference and bytes. */
const tables = (id: string, ref: string, blob: string): string => `
      CREATE TABLE issued_reports (
        id ${id},
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
        pdf ${blob} NOT NULL,
        pdf_sha256 TEXT NOT NULL,
        UNIQUE (site_id, period, version)
      );
      CREATE INDEX issued_reports_customer ON issued_reports (customer_id, issued_at);
      CREATE TABLE issued_report_sign_offs (
        id ${id},
        report_id ${ref} NOT NULL REFERENCES issued_reports (id),
        name TEXT NOT NULL,
        signed_on TEXT NOT NULL,
        remarks TEXT NOT NULL DEFAULT '',
        recorded_by TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE INDEX issued_report_sign_offs_report ON issued_report_sign_offs (report_id, id);
`;

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    postgres:
      tables('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'BIGINT', 'BYTEA') +
      `
      -- PostgreSQL 15 docs, 43.10 "Trigger Functions": RAISE EXCEPTION aborts the statement.
      CREATE FUNCTION vigil_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
      CREATE TRIGGER issued_reports_frozen BEFORE UPDATE ON issued_reports FOR EACH ROW
        EXECUTE FUNCTION vigil_refuse('an issued report is never changed: issue a new version');
      CREATE TRIGGER issued_reports_kept BEFORE DELETE ON issued_reports FOR EACH ROW
        EXECUTE FUNCTION vigil_refuse('an issued report is kept: both sides keep the results');
      CREATE TRIGGER issued_report_sign_offs_frozen BEFORE UPDATE ON issued_report_sign_offs
        FOR EACH ROW EXECUTE FUNCTION vigil_refuse('a sign-off is never changed: record another');
      CREATE TRIGGER issued_report_sign_offs_kept BEFORE DELETE ON issued_report_sign_offs
        FOR EACH ROW EXECUTE FUNCTION vigil_refuse('a sign-off is kept');
      -- TRUNCATE skips row triggers: refused as a statement.
      CREATE TRIGGER issued_reports_not_truncated BEFORE TRUNCATE ON issued_reports
        EXECUTE FUNCTION vigil_refuse('an issued report is kept: both sides keep the results');
      CREATE TRIGGER issued_report_sign_offs_not_truncated BEFORE TRUNCATE ON issued_report_sign_offs
        EXECUTE FUNCTION vigil_refuse('a sign-off is kept');
    `,
    sqlite:
      tables('INTEGER PRIMARY KEY AUTOINCREMENT', 'INTEGER', 'BLOB') +
      `
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
  constructor(private readonly db: SqlDatabase) {}

  async start(): Promise<void> {
    await this.db.migrate('issued-reports', migrations);
  }

  /**
   * Stores the next version of the site's period (1 for the first) and answers it. Two
   * issuings of one period at once: the UNIQUE (site_id, period, version) lets one have
   * the number, and the other takes the next.
   */
  async add(issued: NewIssuedReport): Promise<IssuedReportSummary> {
    const sha256 = createHash('sha256').update(issued.pdf).digest('hex');
    for (let attempt = 1; ; attempt++) {
      try {
        const version = await this.db.transaction(async (tx) => {
          const found = await tx.get<{ last: number | null }>(
            'SELECT max(version) AS last FROM issued_reports WHERE site_id = ? AND period = ?',
            [issued.siteId, issued.period],
          );
          const next = (found?.last ?? 0) + 1;
          await tx.run(
            `INSERT INTO issued_reports (site_id, site_name, customer_id, customer_name, period,
               version, issued_at, issued_by, locale, time_zone, report_json, html, pdf, pdf_sha256)
             VALUES (@siteId, @siteName, @customerId, @customerName, @period, @version, @issuedAt,
               @issuedBy, @locale, @timeZone, @report, @html, @pdf, @sha256)`,
            {
              siteId: issued.siteId,
              siteName: issued.siteName,
              customerId: issued.customerId,
              customerName: issued.customerName,
              period: issued.period,
              version: next,
              issuedAt: issued.issuedAt,
              issuedBy: issued.issuedBy,
              locale: issued.locale,
              timeZone: issued.timeZone,
              report: JSON.stringify(issued.report),
              html: issued.html,
              pdf: issued.pdf,
              sha256,
            },
          );
          return next;
        });
        return await this.summary(issued.siteId, issued.period, version);
      } catch (error) {
        if (attempt >= 3 || !isUniqueViolation(error)) throw error;
      }
    }
  }

  /** One version without its contents; VIGIL_NOT_FOUND naming the list when there is none. */
  async summary(siteId: string, period: string, version: number): Promise<IssuedReportSummary> {
    return this.view(await this.row(siteId, period, version));
  }

  /** One version with the report as it was frozen. */
  async get(siteId: string, period: string, version: number): Promise<IssuedReport> {
    const row = await this.row(siteId, period, version);
    const found = await this.db.get<{ report_json: string }>(
      'SELECT report_json FROM issued_reports WHERE id = ?',
      [row.id],
    );
    return {
      ...(await this.view(row)),
      report: JSON.parse(found!.report_json) as InspectionReport,
    };
  }

  async html(siteId: string, period: string, version: number): Promise<string> {
    return (await this.content(siteId, period, version, 'html')) as string;
  }

  async pdf(siteId: string, period: string, version: number): Promise<Buffer> {
    return (await this.content(siteId, period, version, 'pdf')) as Buffer;
  }

  /** A site's versions, newest period first, then newest version; one period's with `period`. */
  async forSite(siteId: string, period?: string): Promise<IssuedReportSummary[]> {
    const rows =
      period === undefined
        ? await this.db.all<Row>(
            `SELECT ${SUMMARY} FROM issued_reports WHERE site_id = ?
             ORDER BY period DESC, version DESC`,
            [siteId],
          )
        : await this.db.all<Row>(
            `SELECT ${SUMMARY} FROM issued_reports WHERE site_id = ? AND period = ?
             ORDER BY period DESC, version DESC`,
            [siteId, period],
          );
    return this.views(rows);
  }

  /** Every version issued to a customer (its customer when issued), newest first. */
  async forCustomer(customerId: string): Promise<IssuedReportSummary[]> {
    const rows = await this.db.all<Row>(
      `SELECT ${SUMMARY} FROM issued_reports WHERE customer_id = ?
       ORDER BY issued_at DESC, id DESC`,
      [customerId],
    );
    return this.views(rows);
  }

  /** Adds a sign-off to a version: the only write after issuing. */
  async signOff(
    siteId: string,
    period: string,
    version: number,
    signOff: NewSignOff,
  ): Promise<SignOff> {
    const row = await this.row(siteId, period, version);
    const { rows } = await this.db.run<{ id: number }>(
      `INSERT INTO issued_report_sign_offs (report_id, name, signed_on, remarks, recorded_by, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      [
        row.id,
        signOff.name,
        signOff.signedOn,
        signOff.remarks,
        signOff.recordedBy,
        signOff.recordedAt,
      ],
    );
    return { id: rows[0]!.id, ...signOff };
  }

  private async row(siteId: string, period: string, version: number): Promise<Row> {
    const row = await this.db.get<Row>(
      `SELECT ${SUMMARY} FROM issued_reports WHERE site_id = ? AND period = ? AND version = ?`,
      [siteId, period, version],
    );
    if (row === undefined) throw notIssued(siteId, period, version);
    return row;
  }

  private async content(
    siteId: string,
    period: string,
    version: number,
    column: 'html' | 'pdf',
  ): Promise<string | Buffer> {
    const { id } = await this.row(siteId, period, version);
    const found = await this.db.get<{ content: string | Buffer }>(
      `SELECT ${column} AS content FROM issued_reports WHERE id = ?`,
      [id],
    );
    return found!.content;
  }

  private async views(rows: Row[]): Promise<IssuedReportSummary[]> {
    if (rows.length === 0) return [];
    const signOffs = new Map<number, SignOff[]>();
    // One query for the sign-offs of every listed version.
    const ids = rows.map((row) => row.id);
    const found = await this.db.all<SignOffRow>(
      `SELECT * FROM issued_report_sign_offs
       WHERE report_id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`,
      ids,
    );
    for (const s of found) {
      const list = signOffs.get(s.report_id) ?? [];
      list.push(signOffView(s));
      signOffs.set(s.report_id, list);
    }
    return rows.map((row) => summaryView(row, signOffs.get(row.id) ?? []));
  }

  private async view(row: Row): Promise<IssuedReportSummary> {
    return (await this.views([row]))[0]!;
  }
}

/** Another writer took the version number (SQLite's and PostgreSQL's words for it). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
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
