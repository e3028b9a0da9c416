// /api/v1/nodes...: the NodeService operations the CLI and the web form use, as JSON.
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import type { NodeState, Role } from '../../domain/types.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type NodeSettings } from '../../services/nodes.ts';
import type { StoredNode } from '../../store/nodes.ts';
import { publicNode } from '../../cli/node.ts';
import { actorOf, currentUser } from '../auth/middleware.ts';
import { mayAccess } from '../../domain/user-roles.ts';
import { RequestError } from './api-errors.ts';
import { previewFiles, PREVIEW_KINDS } from './api-preview.ts';
import { isPowerRequest, powerFor, POWER_ACTIONS } from './web-power.ts';
import { strictRouter } from '../router.ts';

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'invalid', 'request body must be a JSON object', 'body');
  }
  return body as Record<string, unknown>;
}

function optionalInt(value: unknown, field: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = z.coerce.number().int().min(0).max(max).safeParse(value);
  if (!parsed.success) throw new RequestError(400, 'invalid', `${field}: expected a whole number from 0 to ${max}`, field);
  return parsed.data;
}

function queryText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new RequestError(400, 'invalid', `${field}: give it once`, field);
  return value;
}

export function nodeApiRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  const nodes = ctx.services.nodes;
  const ref = (req: Request) => String(req.params.ref);

  router.get('/nodes', (req, res) => {
    const state = queryText(req.query.state, 'state') as NodeState | undefined;
    const role = queryText(req.query.role, 'role') as Role | undefined;
    const search = queryText(req.query.q, 'q');
    const limit = optionalInt(req.query.limit, 'limit', MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
    if (limit === 0) throw new RequestError(400, 'invalid', `limit: expected a whole number from 1 to ${MAX_PAGE_SIZE}`, 'limit');
    const after = optionalInt(req.query.after, 'after', Number.MAX_SAFE_INTEGER);
    const offset = optionalInt(req.query.offset, 'offset', 10_000_000);
    const page = nodes.page({ state, role, search }, { limit, after, offset });
    const ids = page.nodes.map((node) => node.id);
    const lastEvents = ctx.store.events.lastEventTimesOf(ids);
    const stages = ctx.store.stageRuns.currentStagesOf(ids);
    res.json({
      nodes: page.nodes.map((node) => ({ ...publicNode(node), lastEventAt: lastEvents.get(node.id) ?? null, currentStage: stages.get(node.id) ?? null })),
      total: page.total,
      limit,
      next: page.next,
    });
  });

  router.post('/nodes', (req, res) => {
    const { mac, ...settings } = objectBody(req);
    if (typeof mac !== 'string') throw new RequestError(400, 'invalid', 'mac: required (six hex pairs such as 52:54:00:12:34:56)', 'mac');
    res.status(201).json(publicNode(nodes.add(mac, settings as NodeSettings, actorOf(res))));
  });

  router.get('/nodes/:ref', (req, res) => {
    res.json(publicNode(nodes.find(ref(req))));
  });

  router.patch('/nodes/:ref', (req, res) => {
    res.json(publicNode(nodes.update(ref(req), objectBody(req) as NodeSettings, actorOf(res))));
  });

  router.delete('/nodes/:ref', (req, res) => {
    res.json(publicNode(nodes.forget(ref(req), actorOf(res))));
  });

  router.post('/nodes/:ref/assign', (req, res) => {
    res.json(publicNode(nodes.assign(ref(req), objectBody(req) as NodeSettings, actorOf(res))));
  });

  router.post('/nodes/:ref/reimage', async (req, res) => {
    const { power, ...rest } = objectBody(req);
    if (Object.keys(rest).length > 0) throw new RequestError(400, 'invalid', `${Object.keys(rest)[0]}: unknown field (only power)`, Object.keys(rest)[0]!);
    if (power !== undefined && typeof power !== 'boolean') throw new RequestError(400, 'invalid', 'power: expected true or false', 'power');
    const node = nodes.reimage(ref(req), actorOf(res));
    if (!power) return res.json(publicNode(node));
    const outcome = await powerFor(ctx).reimageWithPower(node.id, actorOf(res));
    res.json({ ...publicNode(nodes.find(node.id)), power: outcome });
  });

  router.post('/nodes/:ref/retry', (req, res) => {
    res.json(publicNode(nodes.retry(ref(req), actorOf(res))));
  });

  router.post('/nodes/:ref/power', async (req, res) => {
    const { action } = objectBody(req);
    if (!isPowerRequest(action)) throw new RequestError(400, 'invalid', `action: one of ${POWER_ACTIONS.join(', ')}`, 'action');
    const node = nodes.find(ref(req));
    const power = powerFor(ctx);
    const outcome = action === 'status' ? await power.status(node.id, actorOf(res)) : await power.act(node.id, action, actorOf(res));
    res.status(outcome.ok ? 200 : 502).json(outcome);
  });

  router.get('/nodes/:ref/events', (req, res) => {
    const node = nodes.find(ref(req));
    res.json({ events: ctx.store.events.listForNode(node.id, optionalInt(req.query.limit, 'limit', 1000) ?? 200) });
  });

  router.get('/nodes/:ref/stage-runs', (req, res) => {
    const node: StoredNode = nodes.find(ref(req));
    const generation = optionalInt(req.query.generation, 'generation', 1_000_000) ?? node.generation;
    res.json({ generation, stageRuns: ctx.store.stageRuns.list(node.id, generation) });
  });

  router.get('/nodes/:ref/preview', async (req, res) => {
    const node = nodes.find(ref(req));
    const kind = queryText(req.query.kind, 'kind');
    const files = await previewFiles(ctx, node, { secrets: mayAccess(currentUser(res)!.role, 'admin') });
    if (kind !== undefined) {
      const file = files.find((f) => f.kind === kind);
      if (!file) throw new RequestError(400, 'invalid', `kind: one of ${files.map((f) => f.kind).join(', ')} for this node (all kinds: ${PREVIEW_KINDS.join(', ')})`, 'kind');
      return res.json({ files: [file] });
    }
    res.json({ files });
  });

  router.get('/events', (req, res) => {
    const since = optionalInt(req.query.since, 'since', Number.MAX_SAFE_INTEGER);
    const limit = optionalInt(req.query.limit, 'limit', 1000);
    res.json({ events: since !== undefined ? ctx.store.events.listSince(since, limit ?? 1000) : ctx.store.events.listRecent(limit ?? 200) });
  });

  return router;
}
