// The installer's side of an install: GET /install/<token>/<kind> (its Preseed, Kickstart, user-data,
// meta-data or finish script) and POST /install/<token>/started|done|failed. Each passes the install callback
// guard first (install-guard.ts: the node's current token, from the node's leased or reserved address); a
// wrong, old or used token gets 404 and an event, a wrong address 403 and an event, never a file.
import type { Response, Router } from 'express';
import type { AppContext } from '../../context.ts';
import { IllegalTransitionError } from '../../domain/lifecycle.ts';
import { isSshPublicKeyLine } from '../../render/context.ts';
import { INSTALL_FILE_KINDS, renderInstallFile } from '../../render/index.ts';
import { CALLBACK_ACTOR } from '../../services/install-callbacks.ts';
import { StaleStateError, type StoredNode } from '../../store/nodes.ts';
import { callbackBody, callbackOf, installCallbackGuard } from './install-guard.ts';
import { strictRouter } from '../router.ts';

/** The installer's first contact moves assigned -> installing; later fetches (and races between them) are no-ops. */
function markInstalling(ctx: AppContext, node: StoredNode, how: string, source: string): StoredNode {
  if (node.state !== 'assigned') return node;
  try {
    return ctx.services.nodes.apply(node, { kind: 'install-started' }, CALLBACK_ACTOR, `installing: the installer at ${source} ${how}`, source);
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
  const callbacks = ctx.services.callbacks;

  router.get('/install/:token/:kind', installCallbackGuard(ctx, (req) => `GET ${String(req.params.kind)}`, { afterDone: 'refuse' }), (req, res) => {
    const kind = String(req.params.kind);
    res.set('Cache-Control', 'no-store');
    const { node, source } = callbackOf(res);
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
      ctx.store.events.append({ nodeId: node.id, mac: node.mac, kind: 'render-failed', message: `${kind}: ${reason}`, actor: CALLBACK_ACTOR, source });
      ctx.log.warn({ node: node.hostname, kind, reason }, 'installer file could not be rendered');
      res.status(500).type('text/plain').send(`racklift: ${reason}\n`);
      return;
    }
    markInstalling(ctx, node, `fetched its ${kind}`, source);
    res.type(file.contentType).send(file.body);
  });

  router.post('/install/:token/started', installCallbackGuard(ctx, 'POST started', { afterDone: 'claim' }), ...callbackBody, (req, res) => {
    const { node, phase, source } = callbackOf(res);
    if (phase === 'over') return conflict(res, callbacks.lateClaim(node, 'POST started', source, null));
    markInstalling(ctx, node, 'reported that it started', source);
    res.type('text/plain').send('ok\n');
  });

  router.post('/install/:token/done', installCallbackGuard(ctx, 'POST done', { afterDone: 'claim' }), ...callbackBody, (req, res) => {
    const { node, phase, source } = callbackOf(res);
    const hostKey = hostKeyFrom(req.body);
    if (!isSshPublicKeyLine(hostKey)) {
      ctx.store.events.append({
        nodeId: node.id,
        mac: node.mac,
        kind: 'callback-refused',
        message: `done callback from ${source} refused: the body is not one SSH host public key line (e.g. ssh-ed25519 AAAA... root@host)`,
        actor: CALLBACK_ACTOR,
        source,
      });
      res.status(400).type('text/plain').send('expected the SSH host public key line, e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub\n');
      return;
    }
    if (phase === 'over') return conflict(res, callbacks.lateClaim(node, 'POST done', source, hostKey));
    answerTransition(res, () => {
      const installing = markInstalling(ctx, node, 'reported done without fetching a file first', source);
      ctx.store.nodes.update(installing.id, { sshHostKey: hostKey, installDoneFrom: source });
      ctx.services.nodes.apply(ctx.store.nodes.get(installing.id)!, { kind: 'install-done' }, CALLBACK_ACTOR, `installed: the installer reported done from ${source} (host key ${hostKey.split(' ')[0]})`, source);
    });
  });

  router.post('/install/:token/failed', installCallbackGuard(ctx, 'POST failed', { afterDone: 'claim' }), ...callbackBody, (req, res) => {
    const { node, phase, source } = callbackOf(res);
    const reason = reasonFrom(req.body);
    if (phase === 'over') return conflict(res, callbacks.lateClaim(node, `POST failed (${reason})`, source, null));
    answerTransition(res, () => {
      const installing = markInstalling(ctx, node, 'reported a failure', source);
      ctx.services.nodes.apply(installing, { kind: 'fail', phase: 'install', reason: `installer: ${reason}` }, CALLBACK_ACTOR, `install failed: installer at ${source}: ${reason}`, source);
    });
  });

  return router;
}

/** After a late claim: the repeat of the same done is answered ok; a conflicting claim gets 409 (the node failed). */
function conflict(res: Response, outcome: { repeated: boolean }): void {
  if (outcome.repeated) {
    res.type('text/plain').send('ok\n');
    return;
  }
  res.status(409).type('text/plain').send('this install was already claimed by another machine; the node is failed and an operator must re-image it\n');
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
