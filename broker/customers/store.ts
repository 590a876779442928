/**
 * Customers and their contracts (component `customers`), on broker/sql: SQLite or
 * PostgreSQL (issue 17 part 1). A customer's contract
 * is stored only once it sets something of its own; until then it follows the broker's
 * template (the `sla` of the broker's config, the contract of service-commitments.md by
 * default), so a deadline changed in broker.yaml reaches every customer that kept the
 * template. Which sites belong to a customer is the site store's (sites.customer_id).
 *
 * The ticket desk asks for a site's deadlines on every ticket it opens and every beat of
 * the SLA clocks, and documents ask for its zone and language, so the answers come from a
 * copy of the table in memory (a few hundred customers at most), loaded by start() and
 * reload() and refreshed after each committed write. Writes take turns and go to the
 * database first. On a pair, the node that becomes the leader calls reload().
 */
import { createHash } from 'node:crypto';
import type {
  Contract,
  ContractPatch,
  Customer,
  CustomerContact,
  CustomerCreate,
  CustomerLocale,
  CustomerPatch,
} from '../../shared/api/customers.js';
import type { Priority } from '../../shared/api/tickets.js';
import { VigilError } from '../../shared/errors.js';
import { isId } from '../../shared/ids.js';
import { Turns } from '../turns.js';
import type { SqlDatabase, StoreMigration } from '../sql/types.js';
import { DEFAULT_TIME_ZONE, WARRANTY_YEARS } from '../inspection/report.js';
import { customerKey } from '../oncall/store.js';
import { defaultSla, type SlaTable } from '../tickets/types.js';
import { checkContacts, timeZoneError } from './validate.js';

// The same text on both engines (broker/sql/types.ts).
const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        -- customerKey(name): on-call coverage names a customer so, and two customers
        -- whose names differ only in case or spaces would be one to it.
        name_key TEXT NOT NULL UNIQUE,
        contacts TEXT NOT NULL DEFAULT '[]',
        locale TEXT NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
        time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
        -- JSON of the whole contract; NULL: the broker's template.
        contract TEXT,
        created_at TEXT NOT NULL
      );
    `,
  },
];

export { DEFAULT_TIME_ZONE };
/** The contract's customer is in China: its documents in Chinese (its months in Beijing time). */
export const DEFAULT_LOCALE: CustomerLocale = 'zh-CN';

/** 备件服务: a stocked spare replaced within 2 h, an unstocked one shipped within 8 h. */
const SPARE_PARTS = { stockedHours: 2, unstockedHours: 8 } as const;

/** The template contract around a deadline table (the broker's `sla`). */
export function templateContract(sla: SlaTable = defaultSla): Contract {
  const terms = (priority: Priority) => ({ ...sla[priority] });
  return {
    sla: { emergency: terms('emergency'), serious: terms('serious'), general: terms('general') },
    serviceHours: '7x24',
    inspections: { monthly: true, quarterly: true },
    warrantyYears: WARRANTY_YEARS,
    spareParts: { ...SPARE_PARTS },
  };
}

/** `contract` with what `patch` sets; every field not sent stays. */
export function patchContract(contract: Contract, patch: ContractPatch): Contract {
  const sla = { ...contract.sla };
  for (const priority of ['emergency', 'serious', 'general'] as const) {
    const change = patch.sla?.[priority];
    if (change) sla[priority] = { ...sla[priority], ...change };
  }
  return {
    sla,
    serviceHours: patch.serviceHours ?? contract.serviceHours,
    inspections: { ...contract.inspections, ...patch.inspections },
    warrantyYears: patch.warrantyYears ?? contract.warrantyYears,
    spareParts: { ...contract.spareParts, ...patch.spareParts },
  };
}

/**
 * An id for a customer known only by its name (today's free-text field): ASCII letters
 * and digits of the name, the rest as dashes ("Acme, Inc." -> "acme-inc"); a name with
 * none (a Chinese company name) gets "customer-" and the first 8 hex digits of its
 * name's SHA-256, the same on every broker.
 */
export function slugOf(name: string): string {
  const ascii = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  if (ascii !== '' && isId(ascii)) return ascii;
  return `customer-${createHash('sha256').update(customerKey(name)).digest('hex').slice(0, 8)}`;
}

/** What the customer store asks of the sites: which belong to whom (sites.customer_id). */
export interface SiteLinks {
  customerIdOf(siteId: string): string | null;
  sitesOf(customerId: string): string[];
}

export interface CustomerStoreOptions {
  /** The deadlines a customer follows until it sets its own: the broker's `sla`. */
  sla?: SlaTable;
  sites?: SiteLinks;
  now?: () => Date;
}

interface Row {
  id: string;
  name: string;
  name_key: string;
  contacts: string;
  locale: CustomerLocale;
  time_zone: string;
  contract: string | null;
  created_at: string;
}

function invalid(what: string, errors: string[]): VigilError {
  return new VigilError(
    'VIGIL_BAD_REQUEST',
    `${what} is not valid; fix the listed fields.`,
    errors,
  );
}

export class CustomerStore {
  private readonly template: Contract;
  private readonly now: () => Date;
  /** The table, by id. */
  private rows = new Map<string, Row>();
  /** Writes take turns: each checks names against the copy before it writes. */
  private readonly turns = new Turns();

  constructor(
    private readonly db: SqlDatabase,
    private readonly opts: CustomerStoreOptions = {},
  ) {
    this.template = templateContract(opts.sla);
    this.now = opts.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.db.migrate('customers', migrations);
    await this.reload();
  }

  /** Reads the table again: at start, and on the node that becomes the leader of a pair. */
  async reload(): Promise<void> {
    const rows = await this.db.all<Row>('SELECT * FROM customers');
    this.rows = new Map(rows.map((row) => [row.id, row]));
  }

  list(): Customer[] {
    return [...this.rows.values()]
      .sort((a, b) => compare(a.name_key, b.name_key) || compare(a.id, b.id))
      .map((row) => this.view(row));
  }

  get(id: string): Customer | undefined {
    const row = this.row(id);
    return row === undefined ? undefined : this.view(row);
  }

  /** The customer, or VIGIL_NOT_FOUND saying where the ids are. */
  require(id: string): Customer {
    const customer = this.get(id);
    if (customer === undefined) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No customer ${id}; GET /api/customers lists them, POST /api/customers creates one.`,
      );
    }
    return customer;
  }

  /** The customer's name; null for an unknown id (what a site shows as its `customer`). */
  nameOf(id: string): string | null {
    return this.row(id)?.name ?? null;
  }

  /** The customer a site belongs to; null when it belongs to none. */
  forSite(siteId: string): Customer | null {
    const id = this.opts.sites?.customerIdOf(siteId) ?? null;
    return id === null ? null : (this.get(id) ?? null);
  }

  /** The zone of a site's documents and report periods: its customer's, else Asia/Shanghai. */
  timeZoneOf(siteId: string): string {
    return this.forSite(siteId)?.timeZone ?? DEFAULT_TIME_ZONE;
  }

  /** The deadlines of a site's tickets: its customer's contract, else the template. */
  slaOf(siteId: string): SlaTable {
    const id = this.opts.sites?.customerIdOf(siteId) ?? null;
    const row = id === null ? undefined : this.row(id);
    return row === undefined ? (this.opts.sla ?? defaultSla) : this.contractOf(row).sla;
  }

  create(input: CustomerCreate): Promise<Customer> {
    return this.turns.run(() => this.createNow(input));
  }

  private async createNow(input: CustomerCreate): Promise<Customer> {
    const errors: string[] = [];
    if (!input.name.trim()) errors.push('name: empty; send the name the customer is known by');
    const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
    const zoneError = timeZoneError(timeZone);
    if (zoneError !== null) errors.push(zoneError);
    const contacts = checkContacts(input.contacts ?? []);
    if (!contacts.ok) errors.push(...contacts.errors);
    const contract =
      input.contract === undefined ? null : this.checkContract(this.template, input.contract);
    if (contract !== null && !contract.ok) errors.push(...contract.errors);
    if (errors.length > 0) throw invalid(`Customer ${input.id}`, errors);
    this.refuseTaken(input.id, input.name);
    await this.write(
      input.id,
      `INSERT INTO customers (id, name, name_key, contacts, locale, time_zone, contract, created_at)
       VALUES (@id, @name, @key, @contacts, @locale, @zone, @contract, @at)`,
      {
        id: input.id,
        name: input.name.trim(),
        key: customerKey(input.name),
        contacts: JSON.stringify(contacts.ok ? contacts.contacts : []),
        locale: input.locale ?? DEFAULT_LOCALE,
        zone: timeZone,
        contract: contract?.ok ? JSON.stringify(contract.contract) : null,
        at: this.now().toISOString(),
      },
    );
    return this.get(input.id)!;
  }

  patch(id: string, patch: CustomerPatch): Promise<Customer> {
    return this.turns.run(async () => this.patchNow(id, patch));
  }

  private async patchNow(id: string, patch: CustomerPatch): Promise<Customer> {
    const row = this.row(id);
    if (row === undefined) return this.require(id);
    const errors: string[] = [];
    if (patch.name !== undefined && !patch.name.trim())
      errors.push('name: empty; send the name the customer is known by');
    if (patch.timeZone !== undefined) {
      const zoneError = timeZoneError(patch.timeZone);
      if (zoneError !== null) errors.push(zoneError);
    }
    const contacts = patch.contacts === undefined ? null : checkContacts(patch.contacts);
    if (contacts !== null && !contacts.ok) errors.push(...contacts.errors);
    const contract =
      patch.contract === undefined
        ? null
        : this.checkContract(this.contractOf(row), patch.contract);
    if (contract !== null && !contract.ok) errors.push(...contract.errors);
    if (errors.length > 0) throw invalid(`Customer ${id}`, errors);
    if (patch.name !== undefined && customerKey(patch.name) !== row.name_key)
      this.refuseTaken(null, patch.name);
    await this.write(
      id,
      `UPDATE customers SET name = @name, name_key = @key, contacts = @contacts, locale = @locale,
         time_zone = @zone, contract = @contract WHERE id = @id`,
      {
        id,
        name: patch.name?.trim() ?? row.name,
        key: patch.name === undefined ? row.name_key : customerKey(patch.name),
        contacts: contacts?.ok ? JSON.stringify(contacts.contacts) : row.contacts,
        locale: patch.locale ?? row.locale,
        zone: patch.timeZone ?? row.time_zone,
        contract: contract?.ok ? JSON.stringify(contract.contract) : row.contract,
      },
    );
    return this.get(id)!;
  }

  /**
   * The id of the customer of this name (compared as on-call coverage compares them),
   * created with the defaults when there is none: today's free-text `customer` of a site
   * becomes a customer so (the upgrade, a CSV import, an older console).
   */
  named(name: string): Promise<string> {
    return this.turns.run(async () => {
      const found = this.withKey(customerKey(name));
      if (found !== undefined) return found.id;
      const base = slugOf(name);
      let id = base;
      for (let n = 2; this.row(id) !== undefined; n++) id = `${base}-${n}`;
      return (await this.createNow({ id, name: name.trim() })).id;
    });
  }

  private row(id: string): Row | undefined {
    return this.rows.get(id);
  }

  private withKey(key: string): Row | undefined {
    for (const row of this.rows.values()) if (row.name_key === key) return row;
    return undefined;
  }

  /** A write of customer `id`, then its row read back into the copy. */
  private async write(id: string, sql: string, params: Record<string, unknown>): Promise<void> {
    await this.db.run(sql, params);
    const row = await this.db.get<Row>('SELECT * FROM customers WHERE id = ?', [id]);
    if (row === undefined) this.rows.delete(id);
    else this.rows.set(id, row);
  }

  private refuseTaken(id: string | null, name: string): void {
    if (id !== null && this.row(id) !== undefined) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `A customer ${id} exists already; change it with PATCH /api/customers/${id}, or pick another id.`,
      );
    }
    const same = this.withKey(customerKey(name));
    if (same !== undefined) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `Customer ${same.id} has the name "${name.trim()}" already; on-call coverage tells customers apart by name, so give this one another name.`,
      );
    }
  }

  /**
   * The contract with the patch, checked where the schema cannot: the on-site deadline
   * of a priority within its resolution deadline would be a promise nobody can keep
   * otherwise, and the response comes first.
   */
  private checkContract(
    base: Contract,
    patch: ContractPatch,
  ): { ok: true; contract: Contract } | { ok: false; errors: string[] } {
    const contract = patchContract(base, patch);
    const errors: string[] = [];
    for (const [priority, terms] of Object.entries(contract.sla)) {
      const later = [terms.onSiteMin, terms.resolveMin].filter((m): m is number => m !== null);
      if (later.some((minutes) => minutes < terms.respondMin)) {
        errors.push(
          `contract/sla/${priority}: the first response (${terms.respondMin} min) must come before the on-site and resolution deadlines`,
        );
      }
    }
    return errors.length === 0 ? { ok: true, contract } : { ok: false, errors };
  }

  private contractOf(row: Row): Contract {
    return row.contract === null ? this.template : (JSON.parse(row.contract) as Contract);
  }

  private view(row: Row): Customer {
    return {
      id: row.id,
      name: row.name,
      contacts: JSON.parse(row.contacts) as CustomerContact[],
      locale: row.locale,
      timeZone: row.time_zone,
      contract: structuredClone(this.contractOf(row)),
      contractIsTemplate: row.contract === null,
      sites: this.opts.sites?.sitesOf(row.id) ?? [],
    };
  }
}

/** The order SQLite's ORDER BY gave (code points), not the locale's. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
