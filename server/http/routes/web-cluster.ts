// The Cluster page: the cloud's settings, the pre-bootstrap checks, and the service passwords on request.
import { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../context.ts';
import type { ClusterSettings } from '../../services/cluster.ts';
import { actorOf } from '../auth/middleware.ts';
import { describeError } from './api-errors.ts';
import { setFlash, takeFlash } from './web-flash.ts';
import { text, type FormBody } from './web-forms.ts';
import type { Views } from './web-views.ts';
import { strictRouter } from '../router.ts';

const orNull = (value: string) => (value === '' ? null : value);
const number = (value: string) => (value === '' ? Number.NaN : Number(value));

/** The whole settings object from the form; the service validates it and names the field at fault. */
export function clusterChangeFromForm(body: FormBody): Record<string, unknown> {
  const external = ['cidr', 'gateway', 'poolStart', 'poolEnd'].map((name) => text(body, `external.${name}`));
  return {
    region: text(body, 'region'),
    release: text(body, 'release'),
    domain: text(body, 'domain'),
    controllerAddress: orNull(text(body, 'controllerAddress')),
    ntpServers: text(body, 'ntpServers').split(/[\s,]+/).filter(Boolean),
    packageProxy: orNull(text(body, 'packageProxy')),
    neutron: {
      mechanism: text(body, 'neutron.mechanism'),
      providerPhysnet: text(body, 'neutron.providerPhysnet'),
      providerInterface: text(body, 'neutron.providerInterface'),
      vniRanges: text(body, 'neutron.vniRanges'),
      external: external.every((v) => v === '') ? null : { cidr: external[0], gateway: external[1], poolStart: external[2], poolEnd: external[3] },
    },
    swift: {
      partPower: number(text(body, 'swift.partPower')),
      replicas: number(text(body, 'swift.replicas')),
      minPartHours: number(text(body, 'swift.minPartHours')),
    },
    image: { name: text(body, 'image.name'), url: orNull(text(body, 'image.url')) },
  };
}

export function clusterWebRoutes(ctx: AppContext, views: Views): Router {
  const router = strictRouter();
  const cluster = ctx.services.cluster;

  const render = (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) => {
    const settings = (extra.settings as ClusterSettings | undefined) ?? cluster.settings();
    const checks = cluster.checks();
    views.render(
      res,
      'cluster',
      {
        title: 'Cluster',
        nav: 'cluster',
        page: 'cluster',
        settings,
        ntpServers: settings.ntpServers.join(' '),
        external: settings.neutron.external ?? { cidr: '', gateway: '', poolStart: '', poolEnd: '' },
        checks,
        checksOk: checks.length === 0,
        errors: checks.filter((c) => c.level === 'error').length,
        nodeCount: ctx.store.nodes.size(),
        flash: takeFlash(req, res),
        ...extra,
      },
      status,
    );
  };

  router.get('/cluster', (req, res) => render(req, res));

  router.post('/cluster', (req, res) => {
    try {
      cluster.update(clusterChangeFromForm(req.body as FormBody), actorOf(res));
      setFlash(req, res, { level: 'ok', text: 'Cluster settings saved.' });
      res.redirect(303, '/cluster');
    } catch (error) {
      const known = describeError(error);
      if (!known) throw error;
      render(req, res, { problem: known.body.error }, known.status);
    }
  });

  router.post('/cluster/secrets', (req, res) => {
    const secrets = Object.entries(cluster.revealSecrets(actorOf(res))).map(([name, value]) => ({ name, value }));
    render(req, res, { secrets });
  });

  return router;
}
