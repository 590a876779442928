/**
 * What the notification parts of issue 15 (channels, escalation) see of on call: plain
 * interfaces, no TypeBox. shared/api/oncall.ts holds the same shapes as schemas for the
 * API; broker/oncall/store.ts checks at compile time that the two agree.
 */
export type Language = 'zh-CN' | 'en';
export interface Person {
  id: string; // slug, e.g. "zhang-wei"
  name: string;
  phone: string | null; // mainland mobile as the robots and SMS expect it: "13800138000"
  email: string | null;
  dingtalkUserId: string | null;
  wecomUserId: string | null;
  feishuOpenId: string | null; // "ou_..."
  language: Language;
  userName: string | null; // their console account, if any
}
export interface Team {
  id: string;
  name: string;
  timeZone: string; // IANA, default "Asia/Shanghai"
  language: Language; // default "zh-CN": the language of messages to this team
  leadId: string | null;
  supervisorId: string | null;
  managerId: string | null;
  channelIds: string[]; // the team's own channels (ids of the channels part)
}
export interface OnCallNow {
  siteId: string;
  team: Team | null; // the team covering the site; null: none covers it
  engineer: Person | null; // on call at `at`, overrides (leave, swaps) applied
  until: string | null; // ISO 8601 UTC: when this shift ends
  next: { engineer: Person | null; from: string } | null;
  lead: Person | null;
  supervisor: Person | null;
  manager: Person | null;
}
export interface OnCallDirectory {
  onCall(siteId: string, at?: Date): OnCallNow;
  person(id: string): Person | undefined;
  personByUserName(userName: string): Person | undefined;
}
