// The installer's side of an install: GET /install/<token>/<kind> (its Preseed, Kickstart, user-data,
// meta-data or finish script) and POST /install/<token>/started|done|failed. The token is the node's one-time
// token of its current install generation; a wrong, old or used one gets 404 and an event, never a file.
import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.ts';
import { IllegalTransitionError } from '../../domain/lifecycle.ts';
import { isSshPublicKeyLine } from '../../render/context.ts';
import { INSTALL_FILE_KINDS, renderInstallFile } from '../../render/index.ts';
import { StaleStateError, type StoredNode } from '../../store/nodes.ts';
import { strictRouter } from '../router.ts';

const ACTOR = 'installer';

/** The installer's first contact moves assigned -> installing; later fetches (and races between them) are no-ops. */
function markInstalling(ctx: AppContext, node: StoredNode, how: string): StoredNode {
  if (node.state !== 'assigned') return node;
  try {
    return ctx.services.nodes.apply(node, { kind: 'install-started' }, ACTOR, `installing: the installer ${how}`);
  } catch (error) {
    if (error instanceof StaleStateError) return ctx.store.nodes.get(node.id) ?? node;
    throw error;
  }
}

/** A reason from an installer: one printable line, bounded. */
function reasonFrom(body: unknown): string {
  const text = typeof body === 'string' ? body : body && typeof body === 'object' && 'reason' in body ? String((body as { reason: unknown }).reason) : '';
  const line = text.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 500);
  return line || 'the installer reported a failure without a reason';
}

function hostKeyFrom(body: unknown): string {
  const text = typeof body === 'string' ? body : body && typeof body === 'object' && 'sshHostKey' in body ? String((body as { sshHostKey: unknown }).sshHostKey) : '';
  return text.trim();
}

export function installRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  // Installers post plain text (busybox wget, curl --data-binary) or JSON; anything else is read as text.
  const body = [express.json({ limit: '16kb' }), express.text({ type: () => true, limit: '16kb' })];

  const tokenNode = (req: Request, res: Response, what: string): StoredNode | null => {
    const node = ctx.services.nodes.nodeForInstallToken(String(req.params.token), what);
    if (!node) res.status(404).type('text/plain').send('unknown or expired install token\n');
    return node;
  };

  router.get('/install/:token/:kind', (req, res) => {
    const kind = String(req.params.kind);
    res.set('Cache-Control', 'no-store');
    const node = tokenNode(req, res, `GET ${kind}`);
    if (!node) return;
    const profile = node.profile ? ctx.store.profiles.get(node.profile) : null;
    if (profile && !(INSTALL_FILE_KINDS[profile.installer] as readonly string[]).includes(kind)) {
      // Installers probe optional files (cloud-init asks for network-config): a plain 404, not an event.
      res.status(404).type('text/plain').send(`no ${kind} for a ${profile.installer} install\n`);
      return;
    }
    let file;
    try {
      file = renderInstallFile(ctx, node, kind);
    } catch (error) {
      const reason = (error as Error).message;
      ctx.store.events.append({ nodeId: node.id, mac: node.mac, kind: 'render-failed', message: `${kind}: ${reason}`, actor: ACTOR });
      ctx.log.warn({ node: node.hostname, kind, reason }, 'installer file could not be rendered');
      res.status(500).type('text/plain').send(`racklift: ${reason}\n`);
      return;
    }
    markInstalling(ctx, node, `fetched its ${kind}`);
    res.type(file.contentType).send(file.body);
  });

  router.post('/install/:token/started', ...body, (req, res) => {
    const node = tokenNode(req, res, 'POST started');
    if (!node) return;
    markInstalling(ctx, node, 'reported that it started');
    res.type('text/plain').send('ok\n');
  });

  router.post('/install/:token/done', ...body, (req, res) => {
    const node = tokenNode(req, res, 'POST done');
    if (!node) return;
    const hostKey = hostKeyFrom(req.body);
    if (!isSshPublicKeyLine(hostKey)) {
      ctx.store.events.append({
        nodeId: node.id,
        mac: node.mac,
        kind: 'callback-refused',
        message: 'done callback refused: the body is not one SSH host public key line (e.g. ssh-ed25519 AAAA... root@host)',
        actor: ACTOR,
      });
      res.status(400).type('text/plain').send('expected the SSH host public key line, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub\n');
      return;
    }
    answerTransition(res, () => {
      const installing = markInstalling(ctx, node, 'reported done without fetching a file first');
      ctx.store.nodes.update(installing.id, { sshHostKey: hostKey });
      ctx.services.nodes.apply(ctx.store.nodes.get(installing.id)!, { kind: 'install-done' }, ACTOR, `installed: the installer reported done (host key ${hostKey.split(' ')[0]})`);
    });
  });

  router.post('/install/:token/failed', ...body, (req, res) => {
    const node = tokenNode(req, res, 'POST failed');
    if (!node) return;
    const reason = reasonFrom(req.body);
    answerTransition(res, () => {
      const installing = markInstalling(ctx, node, 'reported a failure');
      ctx.services.nodes.apply(installing, { kind: 'fail', phase: 'install', reason: `installer: ${reason}` }, ACTOR);
    });
  });

  return router;
}

/** Runs a lifecycle change for an installer callback: `ok`, or 409 with the lifecycle's reason. */
function answerTransition(res: Response, change: () => void): void {
  try {
    change();
  } catch (error) {
    if (error instanceof StaleStateError || error instanceof IllegalTransitionError) {
      res.status(409).type('text/plain').send(`${error.message}\n`);
      return;
    }
    throw error;
  }
  res.type('text/plain').send('ok\n');
}
