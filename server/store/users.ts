// Admin access: users, browser sessions and API tokens. Only hashes of session ids and tokens are stored.
import type { UserRole } from '../domain/user-roles.ts';
import type { Db } from './db.ts';

export interface UserRecord {
  id: number;
  username: string;
  passwordHash: string;
  role: UserRole;
  createdAt: string;
}

export interface SessionRecord {
  userId: number;
  username: string;
  role: UserRole;
  csrfToken: string;
  expiresAt: number;
}

export interface ApiTokenRecord {
  id: number;
  userId: number;
  username: string;
  role: UserRole;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface UserRow {
  id: number;
  username: string;
  password_hash: string;
  role: UserRole;
  created_at: string;
}

const toUser = (row: UserRow): UserRecord => ({ id: row.id, username: row.username, passwordHash: row.password_hash, role: row.role, createdAt: row.created_at });

export class UserStore {
  private readonly insertUser;
  private readonly byName;
  private readonly byId;
  private readonly allUsers;
  private readonly setPassword;
  private readonly setRole;
  private readonly insertSession;
  private readonly sessionByHash;
  private readonly deleteSession;
  private readonly purgeSessions;
  private readonly insertToken;
  private readonly tokenByHash;
  private readonly touchToken;
  private readonly tokensOf;
  private readonly deleteToken;

  constructor(db: Db) {
    this.insertUser = db.prepare('INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)');
    this.byName = db.prepare<[string], UserRow>(
      'SELECT * FROM users WHERE username = ?',
    );
    this.byId = db.prepare<[number], UserRow>(
      'SELECT * FROM users WHERE id = ?',
    );
    this.allUsers = db.prepare<[], UserRow>(
      'SELECT * FROM users ORDER BY username',
    );
    this.setPassword = db.prepare('UPDATE users SET password_hash = ? WHERE id = ?');
    this.setRole = db.prepare('UPDATE users SET role = ? WHERE id = ?');
    this.insertSession = db.prepare(
      'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.sessionByHash = db.prepare<[string, number], { user_id: number; username: string; role: UserRole; csrf_token: string; expires_at: number }>(
      `SELECT s.user_id, u.username, u.role, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id_hash = ? AND s.expires_at > ?`,
    );
    this.deleteSession = db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?');
    this.purgeSessions = db.prepare<[number]>('DELETE FROM sessions WHERE expires_at <= ?');
    this.insertToken = db.prepare('INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)');
    this.tokenByHash = db.prepare<[string], { id: number; user_id: number; username: string; role: UserRole; name: string; created_at: string; last_used_at: string | null }>(
      `SELECT t.id, t.user_id, u.username, u.role, t.name, t.created_at, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = ?`,
    );
    this.touchToken = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
    this.tokensOf = db.prepare<[number], { id: number; user_id: number; name: string; created_at: string; last_used_at: string | null }>(
      'SELECT id, user_id, name, created_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id',
    );
    this.deleteToken = db.prepare<[number]>('DELETE FROM api_tokens WHERE id = ?');
  }

  createUser(username: string, passwordHash: string, role: UserRole): UserRecord {
    const id = Number(this.insertUser.run(username, passwordHash, role, new Date().toISOString()).lastInsertRowid);
    return this.getUser(id)!;
  }

  getUser(id: number): UserRecord | null {
    const row = this.byId.get(id);
    return row ? toUser(row) : null;
  }

  findUser(username: string): UserRecord | null {
    const row = this.byName.get(username);
    return row ? toUser(row) : null;
  }

  listUsers(): UserRecord[] {
    return this.allUsers.all().map(toUser);
  }

  changePassword(userId: number, passwordHash: string): void {
    this.setPassword.run(passwordHash, userId);
  }

  changeRole(userId: number, role: UserRole): void {
    this.setRole.run(role, userId);
  }

  createSession(idHash: string, userId: number, csrfToken: string, expiresAt: number): void {
    this.purgeSessions.run(Date.now());
    this.insertSession.run(idHash, userId, csrfToken, new Date().toISOString(), expiresAt);
  }

  findSession(idHash: string): SessionRecord | null {
    const row = this.sessionByHash.get(idHash, Date.now());
    return row ? { userId: row.user_id, username: row.username, role: row.role, csrfToken: row.csrf_token, expiresAt: row.expires_at } : null;
  }

  endSession(idHash: string): void {
    this.deleteSession.run(idHash);
  }

  createApiToken(userId: number, name: string, tokenHash: string): number {
    return Number(this.insertToken.run(userId, name, tokenHash, new Date().toISOString()).lastInsertRowid);
  }

  findApiToken(tokenHash: string): ApiTokenRecord | null {
    const row = this.tokenByHash.get(tokenHash);
    if (!row) return null;
    this.touchToken.run(new Date().toISOString(), row.id);
    return { id: row.id, userId: row.user_id, username: row.username, role: row.role, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at };
  }

  listApiTokens(userId: number): Omit<ApiTokenRecord, 'username' | 'role'>[] {
    return this.tokensOf.all(userId).map((row) => ({ id: row.id, userId: row.user_id, name: row.name, createdAt: row.created_at, lastUsedAt: row.last_used_at }));
  }

  revokeApiToken(id: number): void {
    this.deleteToken.run(id);
  }
}
