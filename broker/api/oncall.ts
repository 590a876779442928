/**
 * On call over HTTP (shared/api/oncall.ts): people, teams, rotations, overrides and
 * coverage, read by anyone signed in and written by an admin, every write audited; and
 * "who is on call now, and next" for a site or a team. The rules live in
 * broker/oncall/store.ts; this file only maps routes to it.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../shared/api/common.js';
import {
  AtQuery,
  Coverage,
  CoverageList,
  CoverageWrite,
  IdParams,
  NumberParams,
  OnCallNow,
  OnCallNowQuery,
  oncallApiRoutes as routes,
  Override,
  OverrideList,
  OverrideQuery,
  OverrideWrite,
  Person,
  PersonCreate,
  PersonList,
  PersonPatch,
  Rotation,
  RotationList,
  RotationParams,
  RotationPatch,
  RotationWrite,
  Team,
  TeamCreate,
  TeamList,
  TeamOnCall,
  TeamPatch,
  TurnList,
  TurnsQuery,
} from '../../shared/api/oncall.js';
import type { AuditStore } from '../audit-trail.js';
import type { OnCallStore } from '../oncall/store.js';
import { requireRole } from './tickets.js';

const tags = ['oncall'];
const errors = { 400: ApiError, 401: ApiError, 403: ApiError, 404: ApiError, 409: ApiError };
const deleted = { 204: Type.Null({ description: 'Deleted' }), ...errors };

export const oncallRoutes: FastifyPluginAsyncTypebox<{
  oncall: OnCallStore;
  audit: AuditStore;
}> = async (app, { oncall, audit }) => {
  /** The admin making a change, after the role check (on-call data pages people at night). */
  const admin = (request: Parameters<typeof requireRole>[0], what: string) =>
    requireRole(request, 'admin', what).username;

  // --- people ---

  app.get(
    routes.people,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Everyone who can be on call',
        tags,
        response: { 200: PersonList, 401: ApiError },
      },
    },
    async () => oncall.people(),
  );

  app.post(
    routes.people,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Adds a person: name, mobile, email, DingTalk / WeCom / Feishu ids (admin)',
        tags,
        body: PersonCreate,
        response: { 201: Person, ...errors },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Adding a person');
      const person = await oncall.createPerson(request.body);
      await audit.add(actor, 'oncall.person.create', `person:${person.id}`, request.body);
      return reply.status(201).send(person);
    },
  );

  app.patch(
    routes.person,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Changes a person; null clears a field (admin)',
        tags,
        params: IdParams,
        body: PersonPatch,
        response: { 200: Person, ...errors },
      },
    },
    async (request) => {
      const actor = admin(request, 'Changing a person');
      const person = await oncall.updatePerson(request.params.id, request.body);
      await audit.add(actor, 'oncall.person.update', `person:${person.id}`, request.body);
      return person;
    },
  );

  app.delete(
    routes.person,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a person no team, rota or coming override names (admin)',
        tags,
        params: IdParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Deleting a person');
      await oncall.deletePerson(request.params.id);
      await audit.add(actor, 'oncall.person.delete', `person:${request.params.id}`);
      return reply.status(204).send(null);
    },
  );

  // --- teams ---

  app.get(
    routes.teams,
    {
      config: { scope: 'staff' },
      schema: { summary: 'Every on-call team', tags, response: { 200: TeamList, 401: ApiError } },
    },
    async () => oncall.teams(),
  );

  app.post(
    routes.teams,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Adds a team: time zone, language, lead, supervisor, manager, channels (admin)',
        tags,
        body: TeamCreate,
        response: { 201: Team, ...errors },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Adding a team');
      const team = await oncall.createTeam(request.body);
      await audit.add(actor, 'oncall.team.create', `team:${team.id}`, request.body);
      return reply.status(201).send(team);
    },
  );

  app.patch(
    routes.team,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Changes a team (admin)',
        tags,
        params: IdParams,
        body: TeamPatch,
        response: { 200: Team, ...errors },
      },
    },
    async (request) => {
      const actor = admin(request, 'Changing a team');
      const team = await oncall.updateTeam(request.params.id, request.body);
      await audit.add(actor, 'oncall.team.update', `team:${team.id}`, request.body);
      return team;
    },
  );

  app.delete(
    routes.team,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a team with its rotations, overrides and coverage entries (admin)',
        tags,
        params: IdParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Deleting a team');
      await oncall.deleteTeam(request.params.id);
      await audit.add(actor, 'oncall.team.delete', `team:${request.params.id}`);
      return reply.status(204).send(null);
    },
  );

  app.get(
    routes.teamNow,
    {
      config: { scope: 'staff' },
      schema: {
        summary: "Who is on call for the team now (or at `at`), until when, and who's next",
        tags,
        params: IdParams,
        querystring: AtQuery,
        response: { 200: TeamOnCall, ...errors },
      },
    },
    async (request) => {
      const { at } = request.query;
      return oncall.teamOnCall(request.params.id, at === undefined ? undefined : new Date(at));
    },
  );

  app.get(
    routes.turns,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Who is on call for the team when, turn by turn, over the coming days (14 by default)',
        tags,
        params: IdParams,
        querystring: TurnsQuery,
        response: { 200: TurnList, ...errors },
      },
    },
    async (request) => {
      const { from, days } = request.query;
      return oncall.turns(request.params.id, {
        ...(from === undefined ? {} : { from: new Date(from) }),
        ...(days === undefined ? {} : { days }),
      });
    },
  );

  // --- rotations ---

  app.get(
    routes.rotations,
    {
      config: { scope: 'staff' },
      schema: {
        summary: "The team's rotations, by start date",
        tags,
        params: IdParams,
        response: { 200: RotationList, ...errors },
      },
    },
    async (request) => {
      oncall.requireTeam(request.params.id);
      return oncall.rotations(request.params.id);
    },
  );

  app.post(
    routes.rotations,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Adds a rotation: people in turn, daily or weekly hand-over at a local time (admin)',
        tags,
        params: IdParams,
        body: RotationWrite,
        response: { 201: Rotation, ...errors },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Adding a rotation');
      const rotation = await oncall.createRotation(request.params.id, request.body);
      await audit.add(
        actor,
        'oncall.rotation.create',
        `team:${rotation.teamId}/rotation:${rotation.id}`,
        request.body,
      );
      return reply.status(201).send(rotation);
    },
  );

  app.patch(
    routes.rotation,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Changes a rotation (admin)',
        tags,
        params: RotationParams,
        body: RotationPatch,
        response: { 200: Rotation, ...errors },
      },
    },
    async (request) => {
      const actor = admin(request, 'Changing a rotation');
      const { id, rotation: rotationId } = request.params;
      const rotation = await oncall.updateRotation(id, rotationId, request.body);
      await audit.add(
        actor,
        'oncall.rotation.update',
        `team:${id}/rotation:${rotationId}`,
        request.body,
      );
      return rotation;
    },
  );

  app.delete(
    routes.rotation,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a rotation (admin)',
        tags,
        params: RotationParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Deleting a rotation');
      const { id, rotation } = request.params;
      await oncall.deleteRotation(id, rotation);
      await audit.add(actor, 'oncall.rotation.delete', `team:${id}/rotation:${rotation}`);
      return reply.status(204).send(null);
    },
  );

  // --- overrides ---

  app.get(
    routes.overrides,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Overrides (leave cover, swaps) not yet over, of one team or all',
        tags,
        querystring: OverrideQuery,
        response: { 200: OverrideList, ...errors },
      },
    },
    async (request) => {
      return oncall.comingOverrides(request.query.teamId);
    },
  );

  app.post(
    routes.overrides,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'A person takes over a team from..to, or covers one person in it (admin)',
        tags,
        body: OverrideWrite,
        response: { 201: Override, ...errors },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Adding an override');
      const override = await oncall.createOverride(request.body);
      await audit.add(
        actor,
        'oncall.override.create',
        `team:${override.teamId}/override:${override.id}`,
        request.body,
      );
      return reply.status(201).send(override);
    },
  );

  app.delete(
    routes.override,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes an override (admin)',
        tags,
        params: NumberParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Deleting an override');
      await oncall.deleteOverride(request.params.id);
      await audit.add(actor, 'oncall.override.delete', `override:${request.params.id}`);
      return reply.status(204).send(null);
    },
  );

  // --- coverage ---

  app.get(
    routes.coverage,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Which team covers which site, customer, and the default',
        tags,
        response: { 200: CoverageList, 401: ApiError },
      },
    },
    async () => oncall.coverage(),
  );

  app.post(
    routes.coverage,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          'Sets the team of a site, a customer or the default; replaces the same key (admin)',
        tags,
        body: CoverageWrite,
        response: { 201: Coverage, ...errors },
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Setting coverage');
      const entry = await oncall.setCoverage(request.body);
      await audit.add(
        actor,
        'oncall.coverage.set',
        `coverage:${entry.scope}:${entry.key}`,
        request.body,
      );
      return reply.status(201).send(entry);
    },
  );

  app.delete(
    routes.coverageEntry,
    {
      config: { scope: 'staff' },
      schema: {
        summary: 'Deletes a coverage entry (admin)',
        tags,
        params: NumberParams,
        response: deleted,
      },
    },
    async (request, reply) => {
      const actor = admin(request, 'Deleting coverage');
      await oncall.deleteCoverage(request.params.id);
      await audit.add(actor, 'oncall.coverage.delete', `coverage:${request.params.id}`);
      return reply.status(204).send(null);
    },
  );

  // --- who is on call ---

  app.get(
    routes.now,
    {
      config: { scope: 'staff' },
      schema: {
        summary:
          "Who is on call for a site now (or at `at`), until when, who's next, and whom to escalate to",
        tags,
        querystring: OnCallNowQuery,
        response: { 200: OnCallNow, ...errors },
      },
    },
    async (request) => {
      const { siteId, at } = request.query;
      return oncall.onCall(siteId, at === undefined ? undefined : new Date(at));
    },
  );
};
