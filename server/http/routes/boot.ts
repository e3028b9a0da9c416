// GET /boot.ipxe?mac=: the boot plan as an iPXE script. Never a 404: a machine that cannot boot gets a script
// that prints why (and the reason goes to the event log).
import { Router } from 'express';
import type { AppContext } from '../../context.ts';
import { groupMacProblem, isMac, normalizeMac } from '../../domain/mac.ts';
import { bootScriptFor } from '../../render/index.ts';
import { strictRouter } from '../router.ts';

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
    } else {
      // Written even when DHCP has not recorded the machine yet (iPXE can ask first): by MAC, adopted later.
      const normalized = normalizeMac(mac);
      ctx.services.bootEvents.record(normalized, 'http', `iPXE script (${node ? node.state : 'unknown machine'}): ${result.reason}`);
      if (node) ctx.services.nodes.recordBootFacts(node, { lastBootAt: new Date().toISOString(), lastBootVia: 'http' });
    }
    res.send(result.script);
  });
  return router;
}
