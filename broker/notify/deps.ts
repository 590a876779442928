/**
 * The two interfaces of issue 15 the escalation engine codes against, exactly as fixed
 * between its three parts: people and rotas (broker/oncall/types.ts, OnCallStore) and
 * channels (broker/notify/channels/types.ts, ChannelStore). The escalation files import
 * them from here only.
 */
export type { Language, OnCallDirectory, OnCallNow, Person, Team } from '../oncall/types.js';
export type {
  ChannelDriver,
  ChannelInfo,
  ChannelRegistry,
  ChannelType,
  DeliveryContext,
  DeliveryResult,
  OutgoingMessage,
  Recipient,
} from './channels/types.js';
