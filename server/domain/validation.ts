// Operator input, checked at the edge. Every value that can reach a rendered file or a shell script passes
// one of these, so a hostname cannot add a line to a Kickstart or a command to a late_command.
import { z } from 'zod';
import { isIpv4 } from './ipv4.ts';
import { groupMacProblem, isMac, normalizeMac } from './mac.ts';
import { ROLES } from './types.ts';

/** RFC 1123 host name label rules; a fully qualified name is allowed (dots), 253 characters at most. */
export const hostnameSchema = z
  .string()
  .trim()
  .max(253, 'hostname is longer than 253 characters')
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i,
    'hostname must be letters, digits and hyphens (RFC 1123), labels of 1-63 characters separated by dots',
  )
  .transform((value) => value.toLowerCase());

export const macSchema = z
  .string()
  .refine(isMac, 'not a MAC address (expected six hex pairs such as 52:54:00:12:34:56)')
  .transform(normalizeMac)
  .superRefine((mac, ctx) => {
    const problem = groupMacProblem(mac);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const ipv4Schema = z.string().trim().refine(isIpv4, 'not an IPv4 address (expected a.b.c.d)');

export const roleSchema = z.enum(ROLES, { message: `role must be one of ${ROLES.join(', ')}` });

export const rolesSchema = z
  .array(roleSchema)
  .transform((roles) => [...new Set(roles)].sort((a, b) => ROLES.indexOf(a) - ROLES.indexOf(b)));

/** Profile names are file-name safe: they end up in URLs and paths under boot/. */
export const profileNameSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'profile name must be lower-case letters, digits, dot, underscore or hyphen');

export const interfaceNameSchema = z
  .string()
  .trim()
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,14}$/, 'interface name must be 1-15 letters, digits, dot, underscore or hyphen');

/** A block device for storage roles: a name under /dev such as `sdb`, `nvme0n1` or `disk/by-id/...`. */
export const diskSchema = z
  .string()
  .trim()
  .transform((value) => value.replace(/^\/dev\//, ''))
  .pipe(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9/_.:-]{0,127}$/, 'disk must be a device name such as sdb or disk/by-id/wwn-0x5000c500a1b2c3d4').refine((v) => !v.split('/').includes('..'), 'disk must not contain ..'));

const SHELL_UNSAFE = /[\n\r\0'"`$\\;&|<>(){}*?!#~\[\]]/;

/** A free-text value that will be placed inside a rendered file or script: one line, no quoting or expansion. */
export const safeValueSchema = z
  .string()
  .max(512, 'value is longer than 512 characters')
  .refine((value) => !SHELL_UNSAFE.test(value), 'value must be one line without quotes, $, backslash, backquote or shell metacharacters');

export function isSafeValue(value: string): boolean {
  return safeValueSchema.safeParse(value).success;
}
