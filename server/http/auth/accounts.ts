// Local users, browser sessions and API tokens. Passwords are argon2id hashes; session ids and API tokens are
// high-entropy random strings, so the store keeps only their SHA-256 (a stolen database opens nothing).
import { createHash, randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { z } from 'zod';
import { isUserRole, USER_ROLES, type UserRole } from '../../domain/user-roles.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../services/errors.ts';
import type { Store } from '../../store/index.ts';

export const SESSION_SECONDS = 12 * 60 * 60;
export const MIN_PASSWORD_LENGTH = 10;

export const usernameSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'user name must be 1-32 lower-case letters, digits, dot, underscore or hyphen');

const tokenNameSchema = z.string().regex(/^[A-Za-z0-9 _.:-]{1,64}$/, 'token name must be 1-64 letters, digits, space, dot, colon, underscore or hyphen');

export interface AuthenticatedUser {
  userId: number;
  username: string;
  role: UserRole;
  /** session: a browser cookie, which needs the CSRF token on every mutating request; token: Authorization: Bearer. */
  via: 'session' | 'token';
  csrfToken: string | null;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function randomSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

// Verifying against this when the user does not exist keeps "no such user" as slow as "wrong password".
let decoyHash: Promise<string> | null = null;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash ?? (await (decoyHash ??= hashPassword(randomSecret('decoy-')))), password);
  } catch {
    return false;
  }
}

export class Accounts {
  constructor(private readonly store: Store) {}

  async addUser(username: string, password: string, role: UserRole): Promise<{ id: number; username: string; role: UserRole }> {
    const name = usernameSchema.safeParse(username);
    if (!name.success) throw new ValidationError('username', name.error.issues[0]!.message);
    const checkedRole = roleOf(role);
    if (password.length < MIN_PASSWORD_LENGTH) throw new ValidationError('password', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    if (this.store.users.findUser(name.data)) throw new ConflictError('username', `user ${name.data} exists already`);
    const user = this.store.users.createUser(name.data, await hashPassword(password), checkedRole);
    return { id: user.id, username: user.username, role: user.role };
  }

  /** Changes a user's role; sessions and tokens follow at once (the role is read on every request). */
  setRole(username: string, role: UserRole): { username: string; role: UserRole } {
    const user = this.store.users.findUser(username);
    if (!user) throw new NotFoundError(`no user ${JSON.stringify(username)}`);
    this.store.users.changeRole(user.id, roleOf(role));
    return { username: user.username, role };
  }

  /** The user for a correct name and password, else null (same answer and similar time for both failures). */
  async checkPassword(username: string, password: string): Promise<{ id: number; username: string } | null> {
    const user = usernameSchema.safeParse(username).success ? this.store.users.findUser(username) : null;
    const ok = await verifyPassword(user?.passwordHash ?? null, password);
    return ok && user ? { id: user.id, username: user.username } : null;
  }

  startSession(userId: number): { sessionId: string; csrfToken: string; maxAgeSeconds: number } {
    const sessionId = randomSecret('');
    const csrfToken = randomBytes(24).toString('base64url');
    this.store.users.createSession(sha256(sessionId), userId, csrfToken, Date.now() + SESSION_SECONDS * 1000);
    return { sessionId, csrfToken, maxAgeSeconds: SESSION_SECONDS };
  }

  session(sessionId: string): AuthenticatedUser | null {
    const found = this.store.users.findSession(sha256(sessionId));
    return found ? { userId: found.userId, username: found.username, role: found.role, via: 'session', csrfToken: found.csrfToken } : null;
  }

  endSession(sessionId: string): void {
    this.store.users.endSession(sha256(sessionId));
  }

  /** A new API token for scripts; the caller shows it once, only its hash is kept. */
  createApiToken(username: string, tokenName: string): { id: number; token: string } {
    const user = this.store.users.findUser(username);
    if (!user) throw new NotFoundError(`no user ${JSON.stringify(username)} (racklift user add ${username})`);
    const name = tokenNameSchema.safeParse(tokenName);
    if (!name.success) throw new ValidationError('name', name.error.issues[0]!.message);
    const token = randomSecret('rlt_');
    return { id: this.store.users.createApiToken(user.id, name.data, sha256(token)), token };
  }

  apiToken(token: string): AuthenticatedUser | null {
    if (!/^rlt_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const found = this.store.users.findApiToken(sha256(token));
    return found ? { userId: found.userId, username: found.username, role: found.role, via: 'token', csrfToken: null } : null;
  }
}

function roleOf(role: unknown): UserRole {
  if (!isUserRole(role)) throw new ValidationError('role', `role must be one of ${USER_ROLES.join(', ')}`);
  return role;
}
