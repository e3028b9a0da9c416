// Install tokens: one per node and install generation. The token is derived (HMAC of node id and
// generation under the appliance's secret), so it can be put into a rendered boot script without storing
// it; the store keeps only its SHA-256. A new generation changes the token, so the old one stops working.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export class InstallTokens {
  constructor(private readonly secret: string) {}

  tokenFor(nodeId: number, generation: number): string {
    return createHmac('sha256', this.secret).update(`install:${nodeId}:${generation}`).digest('base64url').slice(0, 32);
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  hashFor(nodeId: number, generation: number): string {
    return InstallTokens.hash(this.tokenFor(nodeId, generation));
  }

  /** True when `token` is the current token of that node and generation (constant-time compare). */
  matches(token: string, nodeId: number, generation: number): boolean {
    const expected = Buffer.from(this.tokenFor(nodeId, generation));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** Tokens are 32 base64url characters; anything else is refused before a lookup. */
export function looksLikeInstallToken(value: string): boolean {
  return /^[A-Za-z0-9_-]{32}$/.test(value);
}
