// Failure paths: the pxelinux renderer throws, the event log fails, the service is started the way main.ts
// starts it.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTftp } from '../../server/tftp/service.ts';
import { blksizeLimitFor } from '../../server/tftp/mtu.ts';
import { ERROR_CODE } from '../../server/tftp/packet.ts';
import { makeContext, makeRoot, startHarness, type Harness } from './harness.ts';
import { RawClient } from './raw-client.ts';

const renderMock = vi.hoisted(() => ({ fail: false }));
vi.mock('../../server/render/pxelinux.ts', () => ({
  renderPxelinuxConfig: (_ctx: unknown, mac: string | null) => {
    if (renderMock.fail) throw new Error('template exploded');
    return `DEFAULT local # ${mac ?? 'default'}\n`;
  },
}));

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function get(name: string): Promise<{ op: string; code?: number; text?: string }> {
  const client = await RawClient.open();
  try {
    client.request(h.service.port, name);
    const got = await client.next();
    if (!got) throw new Error('no answer');
    if (got.packet.op === 'ERROR') return { op: 'ERROR', code: got.packet.code };
    if (got.packet.op !== 'DATA') throw new Error(`unexpected ${got.packet.op}`);
    client.ack(got.from, got.packet.block);
    return { op: 'DATA', text: got.packet.data.toString() };
  } finally {
    client.close();
  }
}

describe('generated files', () => {
  it('a render failure is an error packet, and the service keeps serving', async () => {
    renderMock.fail = true;
    expect(await get('pxelinux.cfg/default')).toEqual({ op: 'ERROR', code: ERROR_CODE.notDefined });
    renderMock.fail = false;
    expect(await get('pxelinux.cfg/default')).toEqual({ op: 'DATA', text: 'DEFAULT local # default\n' });
  });

  it('an unknown MAC gets its config, and the decision is an event by its MAC (no node yet)', async () => {
    expect(await get('pxelinux.cfg/01-52-54-00-00-00-99')).toEqual({ op: 'DATA', text: 'DEFAULT local # 52:54:00:00:00:99\n' });
    const boots = h.ctx.store.events.listRecent().filter((event) => event.kind === 'boot');
    expect(boots).toMatchObject([{ nodeId: null, mac: '52:54:00:00:00:99', actor: 'tftp' }]);
    expect(boots[0]!.message).toMatch(/pxelinux\.cfg\/01-52-54-00-00-00-99 over TFTP \(unknown machine\)/);
  });

  it('a failing event log does not stop the config from being served', async () => {
    h.ctx.services.nodes.add('52:54:00:00:00:42', {}, 'test');
    const append = vi.spyOn(h.ctx.store.events, 'append').mockImplementation(() => {
      throw new Error('disk full');
    });
    expect(await get('pxelinux.cfg/01-52-54-00-00-00-42')).toEqual({ op: 'DATA', text: 'DEFAULT local # 52:54:00:00:00:42\n' });
    append.mockRestore();
  });

  it('upper-case MAC names are the same node', async () => {
    expect(await get('pxelinux.cfg/01-52-54-00-00-00-AB')).toEqual({ op: 'DATA', text: 'DEFAULT local # 52:54:00:00:00:ab\n' });
  });
});

describe('startTftp as main.ts calls it', () => {
  it('listens, names itself and closes', async () => {
    const root = await makeRoot();
    const ctx = makeContext(root);
    const service = await startTftp(ctx);
    expect(service.name).toBe('tftp');
    expect(service.address).toMatch(/^127\.0\.0\.1:\d+$/);
    await service.close();
    ctx.store.close();
    await rm(root, { recursive: true, force: true });
  });
});

describe('blksizeLimitFor', () => {
  it('takes the loopback MTU minus the IPv4, UDP and TFTP headers', () => {
    const limit = blksizeLimitFor('127.0.0.1');
    if (limit === null) return console.warn('no /sys/class/net/lo/mtu here: MTU limit not checked');
    expect(limit).toBe(65536 - 32);
  });
  it('knows nothing about an address no interface holds', () => {
    expect(blksizeLimitFor('203.0.113.9')).toBeNull();
  });
});
