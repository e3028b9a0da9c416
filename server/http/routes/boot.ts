// GET /boot.ipxe?mac=: the boot plan as an iPXE script. Never a 404: a machine that cannot boot gets a script
// that prints why (and the reason goes to the event log).
import { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { groupMacProblem, isMac, normalizeMac } from '../../domain/mac.ts';
import { bootScriptFor } from '../../render/index.ts';
import { strictRouter } from '../router.ts';

/** A machine in the discovery loop asks every few seconds: one event per answer and quarter hour is enough. */
const REPEAT_WINDOW_MS = 15 * 60_000;

function repeatsLastBoot(ctx: AppContext, nodeId: number, message: string): boolean {
  const [last] = ctx.store.events.listForNode(nodeId, 1);
  return !!last && last.kind === 'boot' && last.message === message && Date.now() - Date.parse(last.at) < REPEAT_WINDOW_MS;
}

export function bootRoutes(ctx: AppContext): Router {
  const router = strictRouter();
  router.get('/boot.ipxe', (req, res) => {
    const mac = typeof req.query.mac === 'string' ? req.query.mac : '';
    res.type('text/plain; charset=utf-8').set('Cache-Control', 'no-store');
    if (mac === '') {
      // A client chained here without its MAC (a hand-made DHCP config): ask again, naming it.
      res.send(`#!ipxe\nchain --replace --autofree ${ctx.config.publicUrl}/boot.ipxe?mac=\${net0/mac}\n`);
      return;
    }
    if (isMac(mac) && ctx.config.boot.autoEnrol && !groupMacProblem(normalizeMac(mac)) && !ctx.services.nodes.findByMac(mac)) {
      ctx.services.nodes.discover(normalizeMac(mac), { lastBootAt: new Date().toISOString(), lastBootVia: 'http' }, 'http');
    }
    const result = bootScriptFor(ctx, mac);
    const node = result.node;
    if (result.target === 'error') {
      ctx.store.events.append({
        nodeId: node?.id ?? null,
        mac: node?.mac ?? (isMac(mac) ? normalizeMac(mac) : null),
        kind: 'render-failed',
        message: `boot script: ${result.reason}`,
        actor: 'http',
      });
      ctx.log.warn({ mac, node: node?.hostname ?? null, reason: result.reason }, 'boot script could not be rendered');
    } else if (node) {
      const message = `iPXE script (${node.state}): ${result.reason}`;
      if (!repeatsLastBoot(ctx, node.id, message)) ctx.store.events.append({ nodeId: node.id, mac: node.mac, kind: 'boot', message, actor: 'http' });
      ctx.services.nodes.recordBootFacts(node, { lastBootAt: new Date().toISOString(), lastBootVia: 'http' });
    }
    res.send(result.script);
  });
  return router;
}
