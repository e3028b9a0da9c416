// The Nodes table and the Node page: forms over the same NodeService the API and the CLI use.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.ts';
import { canApply } from '../../domain/lifecycle.ts';
import { describeContact, secondsSinceContact } from '../../domain/liveness.ts';
import { NODE_STATES, ROLES, type NodeState, type Role } from '../../domain/types.ts';
import { NotFoundError } from '../../services/errors.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../services/nodes.ts';
import { PAGE_SIZES, pagingLinks, wholeNumber } from './web-paging.ts';
import type { StoredNode } from '../../store/nodes.ts';
import { actorOf, currentUser } from '../auth/middleware.ts';
import { mayAccess } from '../../domain/user-roles.ts';
import { describeError } from './api-errors.ts';
import { previewFiles } from './api-preview.ts';
import { setFlash, takeFlash } from './web-flash.ts';
import { formValuesFrom, formValuesOf, list, settingsFromForm, text, type FormBody, type NodeFormValues } from './web-forms.ts';
import { shortTime, type Views } from './web-views.ts';
import { isPowerRequest, powerFor } from './web-power.ts';
import { strictRouter } from '../router.ts';

const BULK_ACTIONS = ['reimage', 'retry', 'forget', 'power-on', 'power-off', 'power-cycle'] as const;
type BulkAction = (typeof BULK_ACTIONS)[number];
/** Actions that wipe, remove or cut power need the action's name typed in the confirmation field. */
const TYPED_CONFIRMATION: BulkAction[] = ['reimage', 'forget', 'power-off', 'power-cycle'];

const label = (node: StoredNode) => node.hostname ?? node.mac;

function filterValue<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

export function nodeWebRoutes(ctx: AppContext, views: Views): Router {
  const router = strictRouter();
  const nodes = ctx.services.nodes;

  router.get('/', (_req, res) => res.redirect(303, '/nodes'));

  router.get('/nodes', (req, res) => {
    const state = filterValue<NodeState>(req.query.state, NODE_STATES);
    const role = filterValue<Role>(req.query.role, ROLES);
    ctx.services.contacts.flush();
    const now = Date.now();
    const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : '';
    const limit = wholeNumber(req.query.limit, 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
    const requestedPage = wholeNumber(req.query.page, 1, Number.MAX_SAFE_INTEGER) ?? 1;
    const query = { state, role, search: search || undefined };
    let page = nodes.page(query, { limit, offset: (requestedPage - 1) * limit });
    const pages = Math.max(1, Math.ceil(page.total / limit));
    const pageNumber = Math.min(requestedPage, pages);
    // Past the end (the list shrank, or a hand-made URL): show the last page instead of an empty one.
    if (pageNumber !== requestedPage) page = nodes.page(query, { limit, offset: (pageNumber - 1) * limit });
    const ids = page.nodes.map((node) => node.id);
    const lastEvents = ctx.store.events.lastEventTimesOf(ids);
    const stages = ctx.store.stageRuns.currentStagesOf(ids);
    const rows = page.nodes.map((node) => {
      const stage = stages.get(node.id);
      return {
        id: node.id,
        mac: node.mac,
        hostname: node.hostname ?? '',
        address: node.addresses.management ?? '',
        roles: node.roles.join(', '),
        profile: node.profile ?? '',
        state: node.state,
        failedReason: node.failedReason ?? '',
        power: node.powerState ?? '',
        stage: stage ? stage.stage : '',
        stageStatus: stage ? stage.status : '',
        lastEventAt: shortTime(lastEvents.get(node.id)),
        contact: describeContact(node, now),
        silent: (secondsSinceContact(node, now) ?? 0) >= 60 && (node.state === 'installing' || node.state === 'assigned'),
      };
    });
    const counts = ctx.store.nodes.countByState();
    const first = (pageNumber - 1) * limit;
    views.render(res, 'nodes', {
      title: 'Nodes',
      nav: 'nodes',
      page: 'nodes',
      rows,
      total: [...counts.values()].reduce((sum, n) => sum + n, 0),
      matching: page.total,
      shown: rows.length,
      summary: NODE_STATES.map((name) => ({ name, count: counts.get(name) ?? 0, active: name === state })),
      states: NODE_STATES.map((name) => ({ name, selected: name === state })),
      rolesFilter: ROLES.map((name) => ({ name, selected: name === role })),
      search,
      pageSizes: (PAGE_SIZES.includes(limit) ? PAGE_SIZES : [...PAGE_SIZES, limit].sort((a, b) => a - b)).map((size) => ({ size, selected: size === limit })),
      paging: pages > 1 ? pagingLinks({ state, role, search, limit }, pageNumber, pages) : null,
      firstShown: rows.length ? first + 1 : 0,
      lastShown: first + rows.length,
      filtered: Boolean(state || role || search),
      back: req.originalUrl,
      flash: takeFlash(req, res),
    });
  });

  router.post('/nodes/bulk', async (req, res) => {
    const body = req.body as FormBody;
    const action = filterValue<BulkAction>(text(body, 'action'), BULK_ACTIONS);
    const ids = list(body, 'ids');
    const back = typeof body.back === 'string' && body.back.startsWith('/nodes') && !body.back.startsWith('//') ? body.back : '/nodes';
    if (!action || ids.length === 0) {
      setFlash(req, res, { level: 'error', text: 'Select one or more nodes and an action.' });
      return res.redirect(303, back);
    }
    if (TYPED_CONFIRMATION.includes(action) && text(body, 'confirm') !== action) {
      setFlash(req, res, { level: 'error', text: `Nothing done: type "${action}" in the confirmation field to ${action} ${ids.length} node(s).` });
      return res.redirect(303, back);
    }
    const done: string[] = [];
    const refused: string[] = [];
    if (action.startsWith('power-')) {
      const power = powerFor(ctx);
      const verb = action.slice('power-'.length) as 'on' | 'off' | 'cycle';
      // One by one under the service's concurrency bound, so an unknown node does not hide the others' outcome.
      const outcomes = await Promise.all(
        ids.map((id) =>
          power.act(id, verb, actorOf(res)).catch((error: unknown) => {
            const known = describeError(error);
            if (!known) throw error;
            return { ok: false, nodeId: Number(id), message: known.body.error.message };
          }),
        ),
      );
      for (const outcome of outcomes) (outcome.ok ? done : refused).push(outcome.ok ? String(outcome.nodeId) : outcome.message);
      setFlash(req, res, { level: refused.length ? 'error' : 'ok', text: `${action}: ${done.length} done${refused.length ? `; ${refused.length} failed: ${refused.join('; ')}` : ''}.` });
      return res.redirect(303, back);
    }
    for (const id of ids) {
      try {
        const node = nodes[action as 'reimage' | 'retry' | 'forget'](id, actorOf(res));
        done.push(label(node));
      } catch (error) {
        const known = describeError(error);
        if (!known) throw error;
        refused.push(known.body.error.message);
      }
    }
    const verb = { reimage: 're-imaged', retry: 'retried', forget: 'forgot' }[action as 'reimage' | 'retry' | 'forget'];
    const parts = [done.length ? `${verb} ${done.length}: ${done.join(', ')}` : `${verb} none`];
    if (refused.length) parts.push(`refused ${refused.length}: ${refused.join('; ')}`);
    setFlash(req, res, { level: refused.length ? 'error' : 'ok', text: `${parts.join('. ')}.` });
    res.redirect(303, back);
  });

  const renderNode = (req: Request, res: Response, node: StoredNode, status = 200, problem: { message: string; field: string | null } | null = null, values?: NodeFormValues) => {
    const form = values ?? formValuesOf(node);
    ctx.services.contacts.flush();
    const fresh = ctx.store.nodes.get(node.id) ?? node;
    const profiles = ctx.store.profiles.list().map((p) => ({ name: p.name, description: p.description, legacy: p.legacy, selected: p.name === form.profile }));
    views.render(
      res,
      'node',
      {
        title: label(node),
        nav: 'nodes',
        page: 'node',
        node,
        label: label(node),
        form,
        roleChoices: ROLES.map((name) => ({ name, checked: form.roles.includes(name) })),
        profiles,
        events: ctx.store.events.listForNode(node.id, 200),
        stageRuns: ctx.store.stageRuns.list(node.id, node.generation).reverse(),
        canAssign: node.state === 'discovered',
        contact: describeContact(fresh, Date.now()),
        contactAt: fresh.lastContactAt,
        silent: (secondsSinceContact(fresh, Date.now()) ?? 0) >= 60 && node.state === 'installing',
        canRetry: canApply(node, { kind: 'retry' }),
        canReimage: canApply(node, { kind: 'reimage' }),
        bmc: node.bmc ? { driver: node.bmc.driver, address: node.bmc.address, username: node.bmc.username } : null,
        problem,
        problemField: problem?.field ?? '',
        flash: takeFlash(req, res),
      },
      status,
    );
  };

  const withNode = (handler: (req: Request, res: Response, node: StoredNode) => void | Promise<void>) => async (req: Request, res: Response) => {
    let node: StoredNode;
    try {
      node = nodes.find(String(req.params.id));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return views.render(res, 'message', { title: 'No such node', heading: 'No such node', text: `${error.message}. It may have been forgotten.` }, 404);
    }
    await handler(req, res, node);
  };

  /** Runs an operator action; on a refusal shows the node page with the reason (and the field) instead. */
  const act = async (req: Request, res: Response, node: StoredNode, run: () => string | Promise<string>, values?: NodeFormValues) => {
    try {
      setFlash(req, res, { level: 'ok', text: await run() });
      res.redirect(303, `/nodes/${node.id}`);
    } catch (error) {
      const known = describeError(error);
      if (!known) throw error;
      renderNode(req, res, nodes.find(node.id), known.status, known.body.error, values);
    }
  };

  router.get('/nodes/:id', withNode((req, res, node) => renderNode(req, res, node)));

  router.post(
    '/nodes/:id',
    withNode((req, res, node) => {
      const values = formValuesFrom(req.body as FormBody);
      const settings = settingsFromForm(values, node);
      const assign = text(req.body as FormBody, 'action') === 'assign';
      return act(req, res, node, () => {
        if (assign) return `Assigned ${label(nodes.assign(node.id, settings, actorOf(res)))}: it installs at its next network boot.`;
        if (Object.keys(settings).length === 0) return 'Nothing changed.';
        nodes.update(node.id, settings, actorOf(res));
        return `Saved: ${Object.keys(settings).join(', ')}.`;
      }, values);
    }),
  );

  router.post(
    '/nodes/:id/reimage',
    withNode((req, res, node) => {
      const typed = text(req.body as FormBody, 'confirm');
      if (typed !== label(node)) {
        return renderNode(req, res, node, 400, { message: `Not re-imaged: type the node's name ${label(node)} exactly to confirm that its disk may be wiped.`, field: 'confirm' });
      }
      const withPower = text(req.body as FormBody, 'power') === 'on' && node.bmc !== null;
      return act(req, res, node, async () => {
        const reimaged = nodes.reimage(node.id, actorOf(res));
        const done = `Re-image of ${label(reimaged)} scheduled: install generation ${reimaged.generation}`;
        if (!withPower) return `${done}; it installs at its next network boot.`;
        const outcome = await powerFor(ctx).reimageWithPower(node.id, actorOf(res));
        return `${done}. ${outcome.message}`;
      });
    }),
  );

  router.post(
    '/nodes/:id/power',
    withNode(async (req, res, node) => {
      const action = text(req.body as FormBody, 'action');
      if (!isPowerRequest(action)) return renderNode(req, res, node, 400, { message: 'Unknown power action.', field: 'action' });
      const power = powerFor(ctx);
      const outcome = action === 'status' ? await power.status(node.id, actorOf(res)) : await power.act(node.id, action, actorOf(res));
      setFlash(req, res, { level: outcome.ok ? 'ok' : 'error', text: outcome.message });
      res.redirect(303, `/nodes/${node.id}`);
    }),
  );

  router.post(
    '/nodes/:id/retry',
    withNode((req, res, node) => act(req, res, node, () => `Retrying the bootstrap of ${label(nodes.retry(node.id, actorOf(res)))} from the failed stage.`)),
  );

  router.post(
    '/nodes/:id/forget',
    withNode((req, res, node) => {
      const gone = nodes.forget(node.id, actorOf(res));
      setFlash(req, res, { level: 'ok', text: `Forgot ${label(gone)} (${gone.mac}); its events are kept.` });
      res.redirect(303, '/nodes');
    }),
  );

  router.get(
    '/nodes/:id/preview',
    withNode(async (_req, res, node) => {
      views.render(res, 'preview', { title: `Preview: ${label(node)}`, nav: 'nodes', page: 'preview', node, label: label(node), files: await previewFiles(ctx, node, { secrets: mayAccess(currentUser(res)!.role, 'admin') }) });
    }),
  );

  return router;
}
