// The cloud being built: one row of settings, and service passwords generated once (they must never change
// after deployment: services and databases keep them).
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { clusterChecks, type ClusterCheck } from '../domain/cluster-checks.ts';
import { hostnameSchema, interfaceNameSchema, ipv4Schema } from '../domain/validation.ts';
import type { Store } from '../store/index.ts';
import { ValidationError } from './errors.ts';

const cidrText = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected a CIDR such as 203.0.113.0/24');

export const clusterSettingsSchema = z
  .object({
    region: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'region must be letters, digits, _ or -').default('RegionOne'),
    /** OpenStack release the packages provide; informational for Debian/Ubuntu, where the distribution decides. */
    release: z.enum(['zed', 'caracal']).default('zed'),
    domain: hostnameSchema.default('cluster.local'),
    /** Overrides the controller's management address (e.g. a VIP); otherwise the controller node's. */
    controllerAddress: ipv4Schema.nullable().default(null),
    ntpServers: z.array(z.union([ipv4Schema, hostnameSchema])).default([]),
    packageProxy: z.url().nullable().default(null),
    neutron: z
      .object({
        mechanism: z.enum(['openvswitch', 'linuxbridge']).default('openvswitch'),
        providerPhysnet: z.string().regex(/^[a-z0-9_-]{1,32}$/).default('provider'),
        providerInterface: interfaceNameSchema.default('eth1'),
        vniRanges: z.string().regex(/^\d+:\d+$/, 'expected FIRST:LAST').default('1:1000'),
        external: z
          .object({ cidr: cidrText, gateway: ipv4Schema, poolStart: ipv4Schema, poolEnd: ipv4Schema })
          .strict()
          .nullable()
          .default(null),
      })
      .strict()
      .default({ mechanism: 'openvswitch', providerPhysnet: 'provider', providerInterface: 'eth1', vniRanges: '1:1000', external: null }),
    swift: z
      .object({
        partPower: z.number().int().min(6).max(24).default(10),
        replicas: z.number().int().min(1).max(6).default(3),
        minPartHours: z.number().int().min(0).max(168).default(1),
      })
      .strict()
      .default({ partPower: 10, replicas: 3, minPartHours: 1 }),
    image: z
      .object({ name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('cirros'), url: z.url().nullable().default(null) })
      .strict()
      .default({ name: 'cirros', url: null }),
  })
  .strict();

export type ClusterSettings = z.infer<typeof clusterSettingsSchema>;

/** Every generated secret, by name. Stage templates reach them as `secrets.<name>`. */
export const SECRET_NAMES = [
  'mariadbRoot',
  'rabbitmq',
  'admin',
  'keystoneDb',
  'glanceDb',
  'glanceService',
  'placementDb',
  'placementService',
  'novaDb',
  'novaService',
  'neutronDb',
  'neutronService',
  'cinderDb',
  'cinderService',
  'swiftService',
  'metadataSecret',
  'swiftHashPrefix',
  'swiftHashSuffix',
  'horizonSecretKey',
  'rootPassword',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type ClusterSecrets = Record<SecretName, string>;

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** 24 characters from a shell-, URL- and INI-safe alphabet (~139 bits). */
export function generatePassword(length = 24): string {
  let value = '';
  for (let i = 0; i < length; i += 1) value += ALPHABET[randomInt(ALPHABET.length)];
  return value;
}

export class ClusterService {
  constructor(private readonly store: Store) {}

  settings(): ClusterSettings {
    return clusterSettingsSchema.parse(this.store.cluster.get().settings);
  }

  /** Merges a partial change (top-level sections replace whole), validates, saves, records who did it. */
  update(change: Record<string, unknown>, actor: string): ClusterSettings {
    const current = this.store.cluster.get();
    const merged = { ...current.settings, ...change };
    const parsed = clusterSettingsSchema.safeParse(merged);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ValidationError(issue.path.join('.') || 'cluster', issue.message);
    }
    this.store.cluster.save(parsed.data, current.secrets);
    this.store.events.append({ nodeId: null, mac: null, kind: 'cluster', message: `cluster settings changed: ${Object.keys(change).join(', ')}`, actor });
    return parsed.data;
  }

  /** The service passwords, generating any that are missing (once; existing ones are never replaced). */
  secrets(): ClusterSecrets {
    const current = this.store.cluster.get();
    const secrets = { ...current.secrets } as Partial<ClusterSecrets>;
    let generated = false;
    for (const name of SECRET_NAMES) {
      if (!secrets[name]) {
        secrets[name] = name.startsWith('swiftHash') ? generatePassword(32) : generatePassword();
        generated = true;
      }
    }
    if (generated) this.store.cluster.save(current.settings, secrets as Record<string, string>);
    return secrets as ClusterSecrets;
  }

  /** For an operator who asked to see them: the same secrets, with an event naming who looked. */
  revealSecrets(actor: string): ClusterSecrets {
    this.store.events.append({ nodeId: null, mac: null, kind: 'cluster', message: 'service passwords shown', actor });
    return this.secrets();
  }

  checks(): ClusterCheck[] {
    return clusterChecks(this.store.nodes.list());
  }
}
