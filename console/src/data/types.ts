/**
 * The API's types as the console uses them. They come from the shared schemas
 * (shared/api/), imported as types only so no schema code reaches the browser bundle.
 */
import type { Device } from '../../../shared/api/devices.js';
import type { Ticket, TicketQuery } from '../../../shared/api/tickets.js';

export type { ApiError as ApiErrorBody } from '../../../shared/api/common.js';
export type { Device } from '../../../shared/api/devices.js';
export type { LiveEvent } from '../../../shared/api/live.js';
export type { LoginLock, LoginRequest, LoginResponse, UserRole } from '../../../shared/api/auth.js';
export type { Priority, Ticket, TicketStatus, TimelineEntry } from '../../../shared/api/tickets.js';

export type DeviceStatus = Device['status'];
export type DeviceKind = Device['kind'];
export type Reason = Device['reasons'][number];

/** Which tickets GET /api/tickets returns: the open ones (default) or all of them. */
export type TicketScope = NonNullable<TicketQuery['status']>;

/** The three deadlines of the contract's table, in the order a ticket meets them. */
/** The contract table's three, and the spare-part clocks when a part is needed (docs/PARTS.md). */
export type DeadlineKind = 'respond' | 'onSite' | 'resolve' | 'partReplaced' | 'partShipped';

export type TicketId = Ticket['id'];

/** State of the live stream: `idle` when stopped, `reconnecting` after a failure. */
export type ConnectionState = 'idle' | 'connecting' | 'live' | 'reconnecting';

export type {
  IncidentReport,
  ManualTicketRequest,
  SlaClock,
  TicketAction,
  TicketActionName,
} from '../../../shared/api/tickets.js';
export type { Site, SiteDevice, SiteRollup, SiteState } from '../../../shared/api/sites.js';
export type { MaintenanceWindow, NewMaintenance } from '../../../shared/api/maintenance.js';
export type { InspectionReport } from '../../../shared/api/inspection.js';
export type { Locale, SessionInfo, UserSummary, UserWrite } from '../../../shared/api/users.js';
export type { MetricSeries } from '../../../shared/api/metrics.js';
export type { ChannelOutages, DeviceOutages, OutageSpan } from '../../../shared/api/outages.js';
export type { CommandRequest } from '../../../shared/api/commands.js';
export type { AgentCommandResponse as CommandResult } from '../../../shared/messages/agent-command.js';
export type {
  Coverage as OnCallCoverage,
  CoverageWrite as OnCallCoverageWrite,
  OnCallNow,
  Override as OnCallOverride,
  OverrideWrite as OnCallOverrideWrite,
  Person as OnCallPerson,
  PersonCreate as OnCallPersonCreate,
  PersonPatch as OnCallPersonPatch,
  Rotation as OnCallRotation,
  RotationWrite as OnCallRotationWrite,
  Team as OnCallTeam,
  TeamCreate as OnCallTeamCreate,
  TeamPatch as OnCallTeamPatch,
  Turn as OnCallTurn,
} from '../../../shared/api/oncall.js';
export type {
  Channel as NotifyChannel,
  ChannelDelivery as NotifyChannelDelivery,
  ChannelPatch as NotifyChannelPatch,
  ChannelTestResult as NotifyChannelTestResult,
  ChannelType,
  NewChannel as NewNotifyChannel,
} from '../../../shared/api/notify.js';
export type {
  Customer,
  CustomerCreate,
  CustomerPatch,
  CustomerFigures,
} from '../../../shared/api/customers.js';
export type { CustomerWarranty, WarrantyEntry } from '../../../shared/api/parts.js';
export type { IssuedReportSummary, SignOff } from '../../../shared/api/issued-reports.js';
