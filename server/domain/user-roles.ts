// Who may do what through the web form and the REST API. A role grants an access level and every level below
// it: a viewer reads (no secrets), an operator also changes nodes (power, re-image, settings), an admin also
// changes the cluster, reads secrets and manages users.

export const USER_ROLES = ['admin', 'operator', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** What a route needs. `public` routes need nothing (boot and installer routes, the login page). */
export const ACCESS_LEVELS = ['public', 'read', 'operate', 'admin'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

const GRANTS: Record<UserRole, AccessLevel> = { viewer: 'read', operator: 'operate', admin: 'admin' };

export function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (USER_ROLES as readonly string[]).includes(value);
}

export function mayAccess(role: UserRole, level: AccessLevel): boolean {
  return ACCESS_LEVELS.indexOf(GRANTS[role]) >= ACCESS_LEVELS.indexOf(level);
}

/** The role that first grants a level, for refusal messages. */
export function leastRoleFor(level: AccessLevel): UserRole | null {
  return (['viewer', 'operator', 'admin'] as const).find((role) => mayAccess(role, level)) ?? null;
}
