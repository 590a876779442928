/**
 * The two interfaces of issue 15 the escalation engine codes against, exactly as fixed
 * between its three parts: people and rotas (broker/oncall/types.ts, OnCallStore) and
 * channels (broker/notify/channels/types.ts, ChannelStore). The escalation files import
 * them from here only.
 *
 * The on-call part is a copy until broker/oncall/types.ts is committed; then this module
 * re-exports it as it does the channels' types.
 */
export type Language = 'zh-CN' | 'en';
export interface Person {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  dingtalkUserId: string | null;
  wecomUserId: string | null;
  feishuOpenId: string | null;
  language: Language;
  userName: string | null;
}
export interface Team {
  id: string;
  name: string;
  timeZone: string;
  language: Language;
  leadId: string | null;
  supervisorId: string | null;
  managerId: string | null;
  channelIds: string[];
}
export interface OnCallNow {
  siteId: string;
  team: Team | null;
  engineer: Person | null;
  until: string | null;
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

export type {
  ChannelDriver,
  ChannelInfo,
  ChannelRegistry,
  ChannelType,
  DeliveryResult,
  OutgoingMessage,
  Recipient,
} from './channels/types.js';
