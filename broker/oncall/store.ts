/**
 * People, teams, rotations, overrides and site coverage (component "oncall", SQLite or
 * PostgreSQL through broker/sql), and the answer to "who is on call for this site now, and
 * next" (OnCallDirectory, which the escalation engine pages from). Every write is checked
 * here, so the API, an import or a test meet the same rules and the same error lines.
 *
 * The answers come from a copy of the five tables in memory, as Zabbix answers from its
 * configuration cache: they are small (people and teams of one maintenance company), read
 * at every step of every escalation, and written only by people through the API. Every
 * write goes to the database first and, once committed, the copy is read again; on a pair
 * the node that becomes the leader calls reload() before it pages anyone.
 */
import type {
  Coverage,
  CoverageWrite,
  Override,
  OverrideWrite,
  Person as PersonSchema,
  PersonCreate,
  PersonPatch,
  Rotation,
  RotationPatch,
  RotationWrite,
  Team as TeamSchema,
  TeamCreate,
  TeamOnCall,
  TeamPatch,
  Turn,
} from '../../shared/api/oncall.js';
import { VigilError } from '../../shared/errors.js';
import { isId } from '../../shared/ids.js';
import {
  postgresTypes,
  type SqlDatabase,
  type SqlParams,
  type StoreMigration,
} from '../sql/types.js';
import { onCallAt, turnsBetween } from './rota.js';
import type { Language, OnCallDirectory, OnCallNow, Person, Team } from './types.js';
import { emailError, feishuOpenIdError, normalizePhone, timeZoneError } from './validate.js';

// The plain interfaces of types.ts and the API's schemas must stay one shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesAgree: [Same<Person, PersonSchema>, Same<Team, TeamSchema>] = [true, true];
void shapesAgree;

// PostgreSQL: identities where SQLite has AUTOINCREMENT (ids are never reused on either).
const TABLES_SQLITE = `
      CREATE TABLE oncall_people (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        phone TEXT,
        email TEXT,
        dingtalk_user_id TEXT,
        wecom_user_id TEXT,
        feishu_open_id TEXT,
        language TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
        user_name TEXT UNIQUE
      );
      CREATE TABLE oncall_teams (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
        language TEXT NOT NULL DEFAULT 'zh-CN' CHECK (language IN ('zh-CN', 'en')),
        lead_id TEXT REFERENCES oncall_people (id),
        supervisor_id TEXT REFERENCES oncall_people (id),
        manager_id TEXT REFERENCES oncall_people (id),
        channel_ids TEXT NOT NULL DEFAULT '[]'
      );
      CREATE TABLE oncall_rotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team_id TEXT NOT NULL REFERENCES oncall_teams (id) ON DELETE CASCADE,
        name TEXT NOT NULL DEFAULT '',
        person_ids TEXT NOT NULL,
        handover TEXT NOT NULL CHECK (handover IN ('daily', 'weekly')),
        handover_time TEXT NOT NULL,
        handover_weekday INTEGER,
        start_date TEXT NOT NULL
      );
      CREATE INDEX oncall_rotations_team ON oncall_rotations (team_id);
      CREATE TABLE oncall_overrides (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team_id TEXT NOT NULL REFERENCES oncall_teams (id) ON DELETE CASCADE,
        person_id TEXT NOT NULL,
        replaces_id TEXT,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
      );
      CREATE INDEX oncall_overrides_team ON oncall_overrides (team_id, ends_at);
      CREATE TABLE oncall_coverage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL CHECK (scope IN ('site', 'customer', 'default')),
        key TEXT NOT NULL,
        key_norm TEXT NOT NULL,
        team_id TEXT NOT NULL REFERENCES oncall_teams (id) ON DELETE CASCADE,
        UNIQUE (scope, key_norm)
      );
    `;

const migrations: readonly StoreMigration[] = [
  {
    version: 1,
    sqlite: TABLES_SQLITE,
    postgres: postgresTypes(TABLES_SQLITE),
  },
];

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
export const DEFAULT_LANGUAGE: Language = 'zh-CN';
export const DEFAULT_HANDOVER_TIME = '09:00';

interface PersonRow {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  dingtalk_user_id: string | null;
  wecom_user_id: string | null;
  feishu_open_id: string | null;
  language: Language;
  user_name: string | null;
}
interface TeamRow {
  id: string;
  name: string;
  time_zone: string;
  language: Language;
  lead_id: string | null;
  supervisor_id: string | null;
  manager_id: string | null;
  channel_ids: string;
}
interface RotationRow {
  id: number;
  team_id: string;
  name: string;
  person_ids: string;
  handover: 'daily' | 'weekly';
  handover_time: string;
  handover_weekday: number | null;
  start_date: string;
}
interface OverrideRow {
  id: number;
  team_id: string;
  person_id: string;
  replaces_id: string | null;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_at: string;
}
interface CoverageRow {
  id: number;
  scope: Coverage['scope'];
  key: string;
  key_norm: string;
  team_id: string;
}

const personView = (row: PersonRow): Person => ({
  id: row.id,
  name: row.name,
  phone: row.phone,
  email: row.email,
  dingtalkUserId: row.dingtalk_user_id,
  wecomUserId: row.wecom_user_id,
  feishuOpenId: row.feishu_open_id,
  language: row.language,
  userName: row.user_name,
});
const teamView = (row: TeamRow): Team => ({
  id: row.id,
  name: row.name,
  timeZone: row.time_zone,
  language: row.language,
  leadId: row.lead_id,
  supervisorId: row.supervisor_id,
  managerId: row.manager_id,
  channelIds: JSON.parse(row.channel_ids) as string[],
});
const rotationView = (row: RotationRow): Rotation => ({
  id: row.id,
  teamId: row.team_id,
  name: row.name,
  personIds: JSON.parse(row.person_ids) as string[],
  handover: row.handover,
  handoverTime: row.handover_time,
  handoverWeekday: row.handover_weekday,
  startDate: row.start_date,
});
const overrideView = (row: OverrideRow): Override => ({
  id: row.id,
  teamId: row.team_id,
  personId: row.person_id,
  replacesId: row.replaces_id,
  from: row.starts_at,
  to: row.ends_at,
  reason: row.reason,
  createdAt: row.created_at,
});
const coverageView = (row: CoverageRow): Coverage => ({
  id: row.id,
  scope: row.scope,
  key: row.key,
  teamId: row.team_id,
});

/**
 * A customer as the site's free-text field names it, compared without case and extra
 * spaces, so "Example Logistics  Ltd" and "example logistics ltd" are one customer.
 */
export function customerKey(customer: string): string {
  return customer.trim().replace(/\s+/g, ' ').toLowerCase();
}

function invalid(what: string, details: string[]): VigilError {
  return new VigilError(
    'VIGIL_BAD_REQUEST',
    `${what} has errors; fix every listed field.`,
    details,
  );
}

/** A real calendar day ("2026-02-30" passes the schema's pattern, not this). */
function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

export interface OnCallStoreOptions {
  /** The clock of onCall() without `at` and of the overrides' creation time. */
  now?: () => Date;
}

export class OnCallStore implements OnCallDirectory {
  private readonly now: () => Date;
  private view: View = emptyView();

  constructor(
    private readonly db: SqlDatabase,
    private readonly sites: { customerOf(siteId: string): string | null },
    options: OnCallStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    await this.db.migrate('oncall', migrations);
    await this.reload();
  }

  /**
   * Reads the five tables again: after every write of this store, and on a pair when this
   * node becomes the leader (the other node may have written since this one last read).
   */
  async reload(): Promise<void> {
    const [people, teams, rotations, overrides, coverage] = await Promise.all([
      this.db.all<PersonRow>('SELECT * FROM oncall_people'),
      this.db.all<TeamRow>('SELECT * FROM oncall_teams'),
      this.db.all<RotationRow>('SELECT * FROM oncall_rotations'),
      this.db.all<OverrideRow>('SELECT * FROM oncall_overrides'),
      this.db.all<CoverageRow>('SELECT * FROM oncall_coverage'),
    ]);
    this.view = {
      people: people.map(personView).sort(by((p) => [p.name, p.id])),
      teams: teams.map(teamView).sort(by((t) => [t.name, t.id])),
      rotations: rotations.map(rotationView).sort(by((r) => [r.startDate, r.id])),
      overrides: overrides.map(overrideView).sort(by((o) => [o.from, o.id])),
      coverage: coverage
        .map((row) => ({ ...coverageView(row), keyNorm: row.key_norm }))
        .sort(by((c) => [SCOPE_ORDER[c.scope], c.keyNorm])),
    };
  }

  // --- people ---

  people(): Person[] {
    return [...this.view.people];
  }

  person(id: string): Person | undefined {
    return this.view.people.find((person) => person.id === id);
  }

  personByUserName(userName: string): Person | undefined {
    return this.view.people.find((person) => person.userName === userName);
  }

  async createPerson(create: PersonCreate): Promise<Person> {
    if (this.person(create.id) !== undefined) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `A person "${create.id}" exists already; change them with PATCH, or choose another id.`,
      );
    }
    const { id, ...fields } = create;
    const person = this.checkPerson(id, {
      id,
      phone: null,
      email: null,
      dingtalkUserId: null,
      wecomUserId: null,
      feishuOpenId: null,
      language: DEFAULT_LANGUAGE,
      userName: null,
      ...fields,
    });
    await this.write(
      `INSERT INTO oncall_people (id, name, phone, email, dingtalk_user_id, wecom_user_id, feishu_open_id, language, user_name)
       VALUES (@id, @name, @phone, @email, @dingtalkUserId, @wecomUserId, @feishuOpenId, @language, @userName)`,
      person,
    );
    return person;
  }

  async updatePerson(id: string, patch: PersonPatch): Promise<Person> {
    const current = this.mustPerson(id);
    const person = this.checkPerson(id, { ...current, ...patch, id });
    await this.write(
      `UPDATE oncall_people SET name = @name, phone = @phone, email = @email,
         dingtalk_user_id = @dingtalkUserId, wecom_user_id = @wecomUserId,
         feishu_open_id = @feishuOpenId, language = @language, user_name = @userName
       WHERE id = @id`,
      person,
    );
    return person;
  }

  /** Refused while a team, a rotation or an override not yet over names the person. */
  async deletePerson(id: string): Promise<void> {
    this.mustPerson(id);
    const uses: string[] = [];
    for (const team of this.teams()) {
      for (const role of ['leadId', 'supervisorId', 'managerId'] as const) {
        if (team[role] === id) uses.push(`team ${team.id}: ${role.replace('Id', '')}`);
      }
      for (const rotation of this.rotations(team.id)) {
        if (rotation.personIds.includes(id)) uses.push(`team ${team.id}: rotation ${rotation.id}`);
      }
    }
    for (const o of this.overrides({ endingAfter: this.now() })) {
      if (o.personId === id || o.replacesId === id) uses.push(`team ${o.teamId}: override ${o.id}`);
    }
    if (uses.length > 0) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `"${id}" is still on call somewhere; take them out of these first, then delete.`,
        uses,
      );
    }
    await this.write('DELETE FROM oncall_people WHERE id = ?', [id]);
  }

  private mustPerson(id: string): Person {
    const person = this.person(id);
    if (person === undefined) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No person "${id}"; GET /api/oncall/people lists them.`,
      );
    }
    return person;
  }

  private checkPerson(id: string, person: Person): Person {
    const errors: string[] = [];
    let phone = person.phone;
    if (phone !== null) {
      const checked = normalizePhone(phone);
      if (checked.ok) phone = checked.phone;
      else errors.push(checked.error);
    }
    const email = person.email === null ? null : person.email.trim();
    if (email !== null) {
      const error = emailError(email);
      if (error) errors.push(error);
    }
    if (person.feishuOpenId !== null) {
      const error = feishuOpenIdError(person.feishuOpenId);
      if (error) errors.push(error);
    }
    if (!person.name.trim()) errors.push('name: empty; send the name people know them by');
    if (person.userName !== null) {
      const holder = this.personByUserName(person.userName);
      if (holder !== undefined && holder.id !== id) {
        errors.push(
          `userName: the console account "${person.userName}" belongs to ${holder.id} already; one account per person`,
        );
      }
    }
    if (errors.length > 0) throw invalid(`The person "${id}"`, errors);
    return { ...person, name: person.name.trim(), phone, email };
  }

  // --- teams ---

  teams(): Team[] {
    return [...this.view.teams];
  }

  team(id: string): Team | undefined {
    return this.view.teams.find((team) => team.id === id);
  }

  async createTeam(create: TeamCreate): Promise<Team> {
    if (this.team(create.id) !== undefined) {
      throw new VigilError(
        'VIGIL_CONFLICT',
        `A team "${create.id}" exists already; change it with PATCH, or choose another id.`,
      );
    }
    const team = this.checkTeam({
      timeZone: DEFAULT_TIME_ZONE,
      language: DEFAULT_LANGUAGE,
      leadId: null,
      supervisorId: null,
      managerId: null,
      channelIds: [],
      ...create,
    });
    await this.write(
      `INSERT INTO oncall_teams (id, name, time_zone, language, lead_id, supervisor_id, manager_id, channel_ids)
       VALUES (@id, @name, @timeZone, @language, @leadId, @supervisorId, @managerId, @channels)`,
      { ...team, channels: JSON.stringify(team.channelIds) },
    );
    return team;
  }

  async updateTeam(id: string, patch: TeamPatch): Promise<Team> {
    const team = this.checkTeam({ ...this.requireTeam(id), ...patch, id });
    await this.write(
      `UPDATE oncall_teams SET name = @name, time_zone = @timeZone, language = @language,
         lead_id = @leadId, supervisor_id = @supervisorId, manager_id = @managerId,
         channel_ids = @channels
       WHERE id = @id`,
      { ...team, channels: JSON.stringify(team.channelIds) },
    );
    return team;
  }

  /** The team with its rotations, overrides and coverage entries (sites fall to the next entry). */
  async deleteTeam(id: string): Promise<void> {
    this.requireTeam(id);
    await this.write('DELETE FROM oncall_teams WHERE id = ?', [id]);
  }

  /** The team, or a not-found error naming where the teams are listed. */
  requireTeam(id: string): Team {
    const team = this.team(id);
    if (team === undefined) {
      throw new VigilError('VIGIL_NOT_FOUND', `No team "${id}"; GET /api/oncall/teams lists them.`);
    }
    return team;
  }

  private checkTeam(team: Team): Team {
    const errors: string[] = [];
    if (!team.name.trim()) errors.push('name: empty; send the name the team is known by');
    const zoneError = timeZoneError(team.timeZone);
    if (zoneError) errors.push(zoneError);
    for (const role of ['leadId', 'supervisorId', 'managerId'] as const) {
      const id = team[role];
      if (id !== null && this.person(id) === undefined) {
        errors.push(`${role}: no person "${id}"; add them first (POST /api/oncall/people)`);
      }
    }
    if (errors.length > 0) throw invalid(`The team "${team.id}"`, errors);
    // Intl's canonical spelling ("asia/shanghai" -> "Asia/Shanghai").
    const timeZone = new Intl.DateTimeFormat('en-US', { timeZone: team.timeZone }).resolvedOptions()
      .timeZone;
    return { ...team, name: team.name.trim(), timeZone, channelIds: [...new Set(team.channelIds)] };
  }

  // --- rotations ---

  rotations(teamId: string): Rotation[] {
    return this.view.rotations.filter((rotation) => rotation.teamId === teamId);
  }

  async createRotation(teamId: string, write: RotationWrite): Promise<Rotation> {
    this.requireTeam(teamId);
    const rotation = this.checkRotation({
      id: 0,
      teamId,
      name: '',
      handover: 'daily',
      handoverTime: DEFAULT_HANDOVER_TIME,
      handoverWeekday: null,
      ...write,
    });
    const id = await this.insert(
      `INSERT INTO oncall_rotations (team_id, name, person_ids, handover, handover_time, handover_weekday, start_date)
       VALUES (@teamId, @name, @people, @handover, @handoverTime, @handoverWeekday, @startDate)
       RETURNING id`,
      {
        teamId: rotation.teamId,
        name: rotation.name,
        people: JSON.stringify(rotation.personIds),
        handover: rotation.handover,
        handoverTime: rotation.handoverTime,
        handoverWeekday: rotation.handoverWeekday,
        startDate: rotation.startDate,
      },
    );
    return { ...rotation, id };
  }

  async updateRotation(teamId: string, id: number, patch: RotationPatch): Promise<Rotation> {
    const rotation = this.checkRotation({ ...this.mustRotation(teamId, id), ...patch });
    await this.write(
      `UPDATE oncall_rotations SET name = @name, person_ids = @people, handover = @handover,
         handover_time = @handoverTime, handover_weekday = @handoverWeekday, start_date = @startDate
       WHERE id = @id`,
      {
        id: rotation.id,
        name: rotation.name,
        people: JSON.stringify(rotation.personIds),
        handover: rotation.handover,
        handoverTime: rotation.handoverTime,
        handoverWeekday: rotation.handoverWeekday,
        startDate: rotation.startDate,
      },
    );
    return rotation;
  }

  async deleteRotation(teamId: string, id: number): Promise<void> {
    this.mustRotation(teamId, id);
    await this.write('DELETE FROM oncall_rotations WHERE id = ?', [id]);
  }

  private mustRotation(teamId: string, id: number): Rotation {
    const rotation = this.rotations(teamId).find((r) => r.id === id);
    if (rotation === undefined) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `Team "${teamId}" has no rotation ${id}; GET /api/oncall/teams/${teamId}/rotations lists them.`,
      );
    }
    return rotation;
  }

  private checkRotation(rotation: Rotation): Rotation {
    const errors: string[] = [];
    rotation.personIds.forEach((id, i) => {
      if (this.person(id) === undefined) {
        errors.push(`personIds/${i}: no person "${id}"; add them first (POST /api/oncall/people)`);
      }
    });
    if (!isCalendarDay(rotation.startDate)) {
      errors.push(`startDate: "${rotation.startDate}" is not a calendar day; send YYYY-MM-DD`);
    }
    let weekday = rotation.handoverWeekday;
    if (rotation.handover === 'weekly' && weekday === null) {
      errors.push('handoverWeekday: a weekly hand-over needs its day, 1 (Monday) to 7 (Sunday)');
    }
    if (rotation.handover === 'daily') weekday = null;
    if (errors.length > 0) throw invalid(`The rotation of team "${rotation.teamId}"`, errors);
    return { ...rotation, handoverWeekday: weekday };
  }

  // --- overrides ---

  /** Overrides by start; `endingAfter` leaves out those already over then. */
  overrides(filter: { teamId?: string; endingAfter?: Date } = {}): Override[] {
    const after = filter.endingAfter?.toISOString();
    return this.view.overrides.filter(
      (o) =>
        (filter.teamId === undefined || o.teamId === filter.teamId) &&
        (after === undefined || o.to > after),
    );
  }

  /** The overrides in force or ahead now (of one team, or all): what the console lists. */
  comingOverrides(teamId?: string): Override[] {
    return this.overrides({ ...(teamId === undefined ? {} : { teamId }), endingAfter: this.now() });
  }

  async createOverride(write: OverrideWrite): Promise<Override> {
    const errors: string[] = [];
    if (this.team(write.teamId) === undefined) {
      errors.push(`teamId: no team "${write.teamId}"; GET /api/oncall/teams lists them`);
    }
    for (const field of ['personId', 'replacesId'] as const) {
      const id = write[field];
      if (id != null && this.person(id) === undefined) {
        errors.push(`${field}: no person "${id}"; add them first (POST /api/oncall/people)`);
      }
    }
    const from = new Date(write.from);
    const to = new Date(write.to);
    if (!(from < to)) errors.push('to: must be after from');
    if (write.replacesId != null && write.replacesId === write.personId) {
      errors.push('replacesId: the same person as personId; name whom they cover for');
    }
    if (errors.length > 0) throw invalid('The override', errors);
    const row = {
      teamId: write.teamId,
      personId: write.personId,
      replacesId: write.replacesId ?? null,
      from: from.toISOString(),
      to: to.toISOString(),
      reason: write.reason?.trim() ?? '',
      createdAt: this.now().toISOString(),
    };
    const id = await this.insert(
      `INSERT INTO oncall_overrides (team_id, person_id, replaces_id, starts_at, ends_at, reason, created_at)
       VALUES (@teamId, @personId, @replacesId, @from, @to, @reason, @createdAt)
       RETURNING id`,
      row,
    );
    return { id, ...row };
  }

  async deleteOverride(id: number): Promise<void> {
    const changes = await this.write('DELETE FROM oncall_overrides WHERE id = ?', [id]);
    if (changes === 0) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No override ${id}; GET /api/oncall/overrides lists them.`,
      );
    }
  }

  // --- coverage ---

  coverage(): Coverage[] {
    return this.view.coverage.map(({ keyNorm: _, ...entry }) => entry);
  }

  /** Sets the team of a site, a customer or the default; replaces the entry of the same key. */
  async setCoverage(write: CoverageWrite): Promise<Coverage> {
    const key = write.scope === 'default' ? '' : (write.key ?? '').trim();
    const errors: string[] = [];
    if (this.team(write.teamId) === undefined) {
      errors.push(`teamId: no team "${write.teamId}"; GET /api/oncall/teams lists them`);
    }
    if (write.scope === 'site' && !isId(key)) {
      errors.push(`key: "${key}" is not a site id; send the site's id, e.g. demo-site`);
    }
    if (write.scope === 'customer' && key === '') {
      errors.push("key: empty; send the customer's name as the sites' customer field has it");
    }
    if (errors.length > 0) throw invalid('The coverage entry', errors);
    const norm = write.scope === 'customer' ? customerKey(key) : key;
    const { rows } = await this.db.run<CoverageRow>(
      `INSERT INTO oncall_coverage (scope, key, key_norm, team_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, key_norm) DO UPDATE SET key = excluded.key, team_id = excluded.team_id
       RETURNING *`,
      [write.scope, key, norm, write.teamId],
    );
    await this.reload();
    return coverageView(rows[0]!);
  }

  async deleteCoverage(id: number): Promise<void> {
    const changes = await this.write('DELETE FROM oncall_coverage WHERE id = ?', [id]);
    if (changes === 0) {
      throw new VigilError(
        'VIGIL_NOT_FOUND',
        `No coverage entry ${id}; GET /api/oncall/coverage lists them.`,
      );
    }
  }

  /** The team covering a site: its own entry, else its customer's, else the default; null: none. */
  teamForSite(siteId: string): Team | null {
    const find = (scope: Coverage['scope'], key: string) =>
      this.view.coverage.find((entry) => entry.scope === scope && entry.keyNorm === key);
    const customer = this.sites.customerOf(siteId);
    const entry =
      find('site', siteId) ??
      (customer ? find('customer', customerKey(customer)) : undefined) ??
      find('default', '');
    return entry === undefined ? null : (this.team(entry.teamId) ?? null);
  }

  // --- who is on call ---

  onCall(siteId: string, at: Date = this.now()): OnCallNow {
    const team = this.teamForSite(siteId);
    if (team === null) {
      return {
        siteId,
        team: null,
        engineer: null,
        until: null,
        next: null,
        lead: null,
        supervisor: null,
        manager: null,
      };
    }
    return { siteId, ...this.answer(team, at) };
  }

  teamOnCall(teamId: string, at: Date = this.now()): TeamOnCall {
    return this.answer(this.requireTeam(teamId), at);
  }

  /** Who is on call for the team over `days` from `from` (now), turn by turn, overrides applied. */
  turns(teamId: string, options: { from?: Date; days?: number } = {}): Turn[] {
    const team = this.requireTeam(teamId);
    const from = options.from ?? this.now();
    const to = new Date(from.getTime() + (options.days ?? 14) * 86_400_000);
    const people = new Map(this.people().map((p) => [p.id, p]));
    return turnsBetween(
      {
        timeZone: team.timeZone,
        rotations: this.rotations(team.id),
        overrides: this.overrides({ teamId: team.id, endingAfter: from }),
      },
      from.getTime(),
      to.getTime(),
    ).map((turn) => ({
      engineer: turn.personId === null ? null : (people.get(turn.personId) ?? null),
      from: new Date(turn.from).toISOString(),
      to: new Date(turn.to).toISOString(),
    }));
  }

  private answer(team: Team, at: Date): TeamOnCall {
    const answer = onCallAt(
      {
        timeZone: team.timeZone,
        rotations: this.rotations(team.id),
        overrides: this.overrides({ teamId: team.id, endingAfter: at }),
      },
      at.getTime(),
    );
    const who = (id: string | null) => (id === null ? null : (this.person(id) ?? null));
    return {
      team,
      engineer: who(answer.personId),
      until: answer.until === null ? null : new Date(answer.until).toISOString(),
      next:
        answer.next === null
          ? null
          : { engineer: who(answer.next.personId), from: new Date(answer.next.from).toISOString() },
      lead: who(team.leadId),
      supervisor: who(team.supervisorId),
      manager: who(team.managerId),
    };
  }

  /** A write, then the copy read again; returns the rows changed. */
  private async write(sql: string, params: SqlParams): Promise<number> {
    const { changes } = await this.db.run(sql, params);
    await this.reload();
    return changes;
  }

  /** An INSERT ... RETURNING id, then the copy read again; returns the new id. */
  private async insert(sql: string, params: SqlParams): Promise<number> {
    const { rows } = await this.db.run<{ id: number }>(sql, params);
    await this.reload();
    return rows[0]!.id;
  }
}

/** What reload() keeps, in the order the API lists it. */
interface View {
  people: Person[];
  teams: Team[];
  rotations: Rotation[];
  overrides: Override[];
  coverage: (Coverage & { keyNorm: string })[];
}

function emptyView(): View {
  return { people: [], teams: [], rotations: [], overrides: [], coverage: [] };
}

const SCOPE_ORDER: Record<Coverage['scope'], number> = { site: 0, customer: 1, default: 2 };

/** Sorts by the keys in turn, as ORDER BY would with SQLite's binary collation. */
function by<T>(keys: (item: T) => (string | number)[]): (a: T, b: T) => number {
  return (a, b) => {
    const left = keys(a);
    const right = keys(b);
    for (let i = 0; i < left.length; i++) {
      if (left[i]! < right[i]!) return -1;
      if (left[i]! > right[i]!) return 1;
    }
    return 0;
  };
}
