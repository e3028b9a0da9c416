// The test's side of probe.ts: send crafted datagrams from the client namespace and wait for replies by xid.
import { join } from 'node:path';
import type { ClientPacket, SeenReply } from './packets.ts';
import { REPO_ROOT, spawnIn, type Lab, type NsProcess } from './lab.ts';

export interface Seen {
  port: number;
  from: string;
  reply: SeenReply;
}

export class Probe {
  private constructor(private readonly process: NsProcess) {}

  static async start(lab: Lab): Promise<Probe> {
    const child = spawnIn(lab.client, globalThis.process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/dhcp/helpers/probe.ts')]);
    await child.waitFor(/probe ready/, 60_000);
    return new Probe(child);
  }

  /** From the client port 68, broadcast to the server port 67 (or as told). */
  send(packet: ClientPacket, options: { from?: 67 | 68; to?: string; port?: number } = {}): void {
    const command = { from: options.from ?? 68, to: options.to ?? '255.255.255.255', port: options.port ?? 67, packet };
    this.process.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** Replies only: the relay socket also hears the probe's own broadcasts. */
  seen(): Seen[] {
    return this.process
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Seen)
      .filter((seen) => seen.reply.op === 2);
  }

  /** The first reply with this xid (and message type, if given). */
  async reply(xid: number, timeoutMs = 10_000, type?: number): Promise<Seen> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen().find((seen) => seen.reply.xid === xid && (type === undefined || seen.reply.type === type));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no reply with xid ${xid.toString(16)} within ${timeoutMs} ms; seen: ${JSON.stringify(this.seen().map((s) => s.reply.xid.toString(16)))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  stop(): Promise<number | null> {
    this.process.child.stdin!.end();
    return this.process.stop();
  }
}
