// Liveness of installs: what "no contact for N min" says, when the per-phase silence rule fails a node, and
// the contact book that records every request from a node's MAC or address.
import { describe, expect, it } from 'vitest';
import { describeContact, silenceVerdict } from '../../server/domain/liveness.ts';
import { ContactBook, redactedPath } from '../../server/services/contacts.ts';
import { checkOverdueNodes } from '../../server/services/watchdog.ts';
import { memoryContext } from '../dhcp/helpers/app.ts';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe('describeContact', () => {
  it.each([
    [null, null, 'never in contact'],
    [at(-12), 'tftp grubx64.efi', 'in contact (12 s ago, tftp grubx64.efi)'],
    [at(-7 * 60 - 5), 'http GET /boot.ipxe', 'no contact for 7 min'],
    [at(-(3 * 3600 + 5 * 60)), 'dhcp', 'no contact for 3 h 5 min'],
  ])('%s -> %s', (lastContactAt, lastContactVia, expected) => {
    expect(describeContact({ lastContactAt, lastContactVia }, T0)).toBe(expected as string);
  });
});

describe('silenceVerdict (install phase)', () => {
  const limits = { installNoContactSeconds: 900 };
  const installing = { state: 'installing' as const, stateChangedAt: at(-3600), lastContactAt: at(-901), lastContactVia: 'package cache pool/main/l/linux/x.deb' };

  it('fails an installing node silent past the limit, naming what it last asked for', () => {
    const verdict = silenceVerdict(installing, T0, limits);
    expect(verdict).toMatchObject({ kind: 'fail', phase: 'install' });
    expect(verdict!.reason).toMatch(/^no contact for 15 min while installing \(limit 15 min; last contact .* \(package cache pool\/main\/l\/linux\/x\.deb\)\)/);
  });

  it('leaves a node alone within the limit, or in a state the rule does not cover', () => {
    expect(silenceVerdict({ ...installing, lastContactAt: at(-899) }, T0, limits)).toBeNull();
    expect(silenceVerdict({ ...installing, state: 'assigned' }, T0, limits)).toBeNull();
    expect(silenceVerdict({ ...installing, state: 'ready' }, T0, limits)).toBeNull();
  });

  it('counts silence from the start of the install when the last contact is older (or there is none)', () => {
    expect(silenceVerdict({ ...installing, stateChangedAt: at(-60), lastContactAt: at(-5000) }, T0, limits)).toBeNull();
    expect(silenceVerdict({ ...installing, stateChangedAt: at(-1000), lastContactAt: null }, T0, limits)!.reason).toMatch(/never heard from/);
  });
});

describe('contact book and watchdog', () => {
  it('records contact by MAC and by address (reservation or bound lease), keeps tokens out, and ignores strangers', () => {
    const ctx = memoryContext();
    const reserved = ctx.services.nodes.add('52:54:00:15:00:01', { hostname: 'a', managementAddress: '10.231.10.20' }, 'test');
    const leased = ctx.services.nodes.add('52:54:00:15:00:02', { hostname: 'b' }, 'test');
    ctx.store.leases.upsert({ address: '10.231.10.101', mac: leased.mac, subnet: '10.231.10.0/24', state: 'bound', expiresAt: T0 + 3600_000, clientHostname: null, updatedAt: T0 });
    let now = T0;
    const book = new ContactBook(ctx.store, null, { now: () => now });
    book.noteMac(reserved.mac, 'dhcp REQUEST');
    now += 10_000;
    book.noteAddress('::ffff:10.231.10.20', `http GET ${redactedPath('/install/SECRETTOKENSECRETTOKEN/preseed')}`);
    book.noteAddress('10.231.10.101', 'tftp pxelinux.0');
    book.noteAddress('10.231.10.150', 'tftp pxelinux.0');
    book.flush();
    const a = ctx.store.nodes.get(reserved.id)!;
    expect(a).toMatchObject({ lastContactAt: new Date(T0 + 10_000).toISOString(), lastContactVia: 'http GET /install/.../preseed' });
    expect(ctx.store.nodes.get(leased.id)).toMatchObject({ lastContactVia: 'tftp pxelinux.0' });
    expect(JSON.stringify(ctx.store.nodes.list())).not.toContain('SECRETTOKEN');
    ctx.store.close();
  });

  it('the watchdog fails a silent install with the reason, and spares one that was heard from', () => {
    const ctx = memoryContext({ 'watchdog.installNoContactSeconds': 600 });
    const silent = ctx.services.nodes.add('52:54:00:15:00:03', { hostname: 'silent', profile: 'debian-12' }, 'test');
    const talking = ctx.services.nodes.add('52:54:00:15:00:04', { hostname: 'talking', profile: 'debian-12' }, 'test');
    for (const node of [silent, talking]) ctx.services.nodes.apply(ctx.store.nodes.get(node.id)!, { kind: 'install-started' }, 'test');
    const later = Date.now() + 11 * 60_000;
    ctx.store.nodes.recordContacts([{ nodeId: talking.id, at: new Date(later - 30_000).toISOString(), via: 'package cache pool/main/x.deb' }]);
    expect(checkOverdueNodes(ctx, later)).toBe(1);
    const failed = ctx.store.nodes.get(silent.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.failedReason).toMatch(/^no contact for 11 min while installing/);
    expect(ctx.store.nodes.get(talking.id)!.state).toBe('installing');
    ctx.store.close();
  });
});
