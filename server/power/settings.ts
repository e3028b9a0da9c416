// BMC settings as an operator enters them, checked before they reach the store or an ipmitool argument.
import { z } from 'zod';
import { isIpv4 } from '../domain/ipv4.ts';
import { hostnameSchema } from '../domain/validation.ts';
import type { BmcSettings } from '../domain/types.ts';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const addressSchema = z
  .string()
  .trim()
  .min(1, 'address is required')
  .refine((value) => isIpv4(value) || hostnameSchema.safeParse(value).success, 'address must be an IPv4 address or a host name')
  .transform((value) => value.toLowerCase());

/** IPMI 2.0 user names are at most 16 bytes; Redfish accounts are longer. */
const usernameSchema = z
  .string()
  .min(1, 'user is required')
  .max(64, 'user is longer than 64 characters')
  .refine((value) => !CONTROL_CHARS.test(value), 'user must not contain control characters')
  .refine((value) => !value.startsWith('-'), 'user must not start with -');

const passwordSchema = z
  .string()
  .min(1, 'password is empty')
  .max(128, 'password is longer than 128 characters')
  .refine((value) => !CONTROL_CHARS.test(value), 'password must not contain control characters (a trailing newline is removed)');

/** SHA-256 of the BMC's certificate, as `openssl x509 -fingerprint -sha256` prints it or as plain hex. */
export const certFingerprintSchema = z
  .string()
  .trim()
  .transform((value) => value.replace(/^sha256\s*fingerprint\s*=\s*/i, '').replace(/[:\s]/g, '').toUpperCase())
  .refine((hex) => /^[0-9A-F]{64}$/.test(hex), 'certificate fingerprint must be a SHA-256 digest: 64 hex digits, colons allowed')
  .transform(formatFingerprint);

const systemPathSchema = z
  .string()
  .trim()
  .regex(/^\/redfish\/v1\/Systems\/[A-Za-z0-9._~%-]{1,128}$/, 'system path must look like /redfish/v1/Systems/<id>');

export const bmcInputSchema = z
  .object({
    driver: z.enum(['ipmi', 'redfish'], { message: 'driver must be ipmi or redfish' }),
    address: addressSchema,
    port: z.coerce.number({ message: 'port must be a number 1-65535' }).int('port must be a whole number').min(1, 'port must be 1-65535').max(65535, 'port must be 1-65535').optional(),
    username: usernameSchema,
    password: passwordSchema.optional(),
    certFingerprint: certFingerprintSchema.optional(),
    systemPath: systemPathSchema.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.driver === 'ipmi' && Buffer.byteLength(value.username) > 16) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'IPMI user names are at most 16 bytes' });
    }
    if (value.driver === 'ipmi' && value.password && Buffer.byteLength(value.password) > 20) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'IPMI 2.0 passwords are at most 20 bytes' });
    }
    if (value.driver === 'ipmi' && (value.certFingerprint || value.systemPath)) {
      ctx.addIssue({ code: 'custom', path: ['driver'], message: 'certificate fingerprint and system path are Redfish settings' });
    }
  });

export type BmcInput = z.input<typeof bmcInputSchema>;

export function formatFingerprint(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}

export function defaultPort(driver: BmcSettings['driver']): number {
  return driver === 'ipmi' ? 623 : 443;
}

/** A node's BMC without its password, for the API, the CLI and events. */
export function publicBmc(bmc: BmcSettings | null): Record<string, unknown> | null {
  if (!bmc) return null;
  const { password, ...rest } = bmc;
  return { ...rest, password: password ? '(set)' : undefined };
}
