// Install tokens: one per node and install generation. The token is derived (HMAC of node id and
// generation under the appliance's secret), so it can be put into a rendered boot script without storing
// it; the store keeps only its SHA-256. A new generation changes the token, so the old one stops working.
// The token starts with the node id (base 36), so a refused token still names the machine that sent it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const INSTALL_TOKEN_LENGTH = 32;
const TOKEN_PATTERN = /^([0-9a-z]{1,8})-[A-Za-z0-9_-]+$/;

export class InstallTokens {
  constructor(private readonly secret: string) {}

  tokenFor(nodeId: number, generation: number): string {
    const prefix = `${nodeId.toString(36)}-`;
    const mac = createHmac('sha256', this.secret).update(`install:${nodeId}:${generation}`).digest('base64url');
    return prefix + mac.slice(0, INSTALL_TOKEN_LENGTH - prefix.length);
  }

  static hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  hashFor(nodeId: number, generation: number): string {
    return InstallTokens.hash(this.tokenFor(nodeId, generation));
  }

  /** True when `token` is the token of that node and generation (constant-time compare). */
  matches(token: string, nodeId: number, generation: number): boolean {
    const expected = Buffer.from(this.tokenFor(nodeId, generation));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The generation (1..below) whose token this is for the node, or null: tells an old token from a forged one. */
  generationOf(token: string, nodeId: number, below: number): number | null {
    for (let generation = below - 1; generation >= 1; generation -= 1) {
      if (this.matches(token, nodeId, generation)) return generation;
    }
    return null;
  }
}

/** The node id a well-formed token claims, or null for anything that is not shaped like a token. */
export function claimedNodeId(token: string): number | null {
  if (token.length !== INSTALL_TOKEN_LENGTH) return null;
  const match = TOKEN_PATTERN.exec(token);
  return match ? parseInt(match[1]!, 36) : null;
}
