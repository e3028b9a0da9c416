// No operator value can add a line to a Kickstart or a Preseed, or a command to a late_command: values are
// refused at the edge (zod) and, behind that, by the render context and the per-format helpers.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { bootScriptFor, renderInstallFile } from '../../server/render/index.ts';
import { kernelArg, kickstartQuote, preseedValue, shellQuote, yamlString, UnsafeValueError } from '../../server/render/helpers.ts';
import { kickstartWords } from '../../server/render/lint-kickstart.ts';
import { preseedEntries } from '../../server/render/lint.ts';
import { ValidationError } from '../../server/services/errors.ts';
import { assignedNode, makeFixture } from './fixture.ts';

const HOSTILE = [
  "node1'; reboot; echo '",
  'node1"\nrootpw --plaintext x',
  'node1\nd-i preseed/late_command string reboot',
  'node$(reboot)',
  'node`reboot`',
  'node%post',
  '%post',
  'node1;reboot',
  'node1 && reboot',
  'node${IFS}1',
  'node1\\',
];

const fixture = makeFixture();
afterAll(() => fixture.cleanup());

describe('operator values at the edge', () => {
  it.each(HOSTILE)('refuses the hostname %j', (hostname) => {
    expect(() => fixture.ctx.services.nodes.add('52:54:00:04:20:01', { hostname, profile: 'debian-12' }, 'test')).toThrow(ValidationError);
    expect(fixture.ctx.services.nodes.findByMac('52:54:00:04:20:01')).toBeNull();
  });

  it('refuses hostile disk and interface names', () => {
    expect(() => fixture.ctx.services.nodes.add('52:54:00:04:20:02', { hostname: 'ok-1', disks: ['sdb; reboot'] }, 'test')).toThrow(ValidationError);
    expect(() => fixture.ctx.services.nodes.add('52:54:00:04:20:03', { hostname: 'ok-2', interfaces: { management: 'eth0$(x)' } }, 'test')).toThrow(ValidationError);
  });
});

describe('the render context, behind the edge', () => {
  it('refuses a hostile hostname written straight into the store, and the boot script says why', () => {
    const node = assignedNode(fixture.ctx, 'debian-12', { hostname: 'straight-1' });
    fixture.ctx.store.db.prepare('UPDATE nodes SET hostname = ? WHERE id = ?').run("x'$(reboot)", node.id);
    const stored = fixture.ctx.store.nodes.get(node.id)!;
    expect(() => renderInstallFile(fixture.ctx, stored, 'preseed')).toThrow(/hostname/);
    const result = bootScriptFor(fixture.ctx, node.mac);
    expect(result.target).toBe('error');
    expect(result.script).not.toContain('$(reboot)');
    expect(result.script).not.toContain("'");
  });

  it.each(['Europe/Berlin\nd-i preseed/late_command string reboot', "UTC'; reboot", '../../etc/passwd'])('refuses the cluster timezone %j', (timezone) => {
    const local = makeFixture();
    try {
      local.ctx.store.cluster.save({ timezone }, {});
      const node = assignedNode(local.ctx, 'debian-12', { hostname: 'tz-1' });
      expect(() => renderInstallFile(local.ctx, node, 'preseed')).toThrow(/timezone/);
    } finally {
      local.cleanup();
    }
  });

  it.each(["http://mirror.example/debian'; reboot", 'http://mirror.example/deb ian', 'ftp://mirror.example/debian', 'http://mirror.example/$(reboot)'])('refuses the mirror URL %j', (mirrorUrl) => {
    fixture.ctx.store.profiles.upsert({ ...fixture.ctx.store.profiles.get('debian-12')!, name: 'debian-12-badmirror', mirrorUrl });
    const node = assignedNode(fixture.ctx, 'debian-12', { hostname: `mirror-${Math.random().toString(36).slice(2, 8)}` });
    fixture.ctx.store.nodes.update(node.id, { profile: 'debian-12-badmirror' });
    expect(() => renderInstallFile(fixture.ctx, fixture.ctx.store.nodes.get(node.id)!, 'preseed')).toThrow(/mirror URL/);
  });

  it.each(['console=ttyS0 $(reboot)', 'quiet "a b"', 'x=${net0/ip}', '#comment', 'a\\b', 'a`b`'])('refuses profile kernel arguments %j', (kernelArgs) => {
    fixture.ctx.store.profiles.upsert({ ...fixture.ctx.store.profiles.get('debian-12')!, name: 'debian-12-badargs', kernelArgs });
    const node = assignedNode(fixture.ctx, 'debian-12', { hostname: `args-${Math.random().toString(36).slice(2, 8)}` });
    fixture.ctx.store.nodes.update(node.id, { profile: 'debian-12-badargs' });
    const result = bootScriptFor(fixture.ctx, node.mac);
    expect(result.target).toBe('error');
    expect(result.reason).toMatch(/kernel argument/);
  });
});

describe('per-format helpers', () => {
  const tricky = ["it's", 'a"b', '$(reboot)', '`reboot`', '%post', '100%', '${HOME}', 'a;b&&c|d', '\\n'];

  it.each(tricky)('shellQuote(%j) is one word that sh reads back unchanged', (value) => {
    const quoted = shellQuote(value);
    const result = spawnSync('sh', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' });
    expect(result.stdout).toBe(value);
  });

  it.each(['a\nb', 'a\rb', 'a\0b'])('refuses line breaks and NUL: %j', (value) => {
    expect(() => shellQuote(value)).toThrow(UnsafeValueError);
    expect(() => preseedValue(value)).toThrow(UnsafeValueError);
    expect(() => kickstartQuote(value)).toThrow(UnsafeValueError);
    expect(() => kernelArg(value)).toThrow(UnsafeValueError);
  });

  it('refuses a Preseed value that would continue onto the next line', () => {
    expect(() => preseedValue('value \\')).toThrow(/backslash/);
    const text = `d-i netcfg/get_hostname string ${preseedValue('host%1')}\nd-i preseed/late_command string true\n`;
    expect(preseedEntries(text).map((entry) => entry.question)).toEqual(['netcfg/get_hostname', 'preseed/late_command']);
  });

  it.each(tricky)('kickstartQuote(%j) is one shlex word', (value) => {
    expect(kickstartWords(`url --url=${kickstartQuote(value)}`)).toEqual(['url', `--url=${value}`]);
  });

  it.each([...tricky, 'a\nb: c'])('yamlString(%j) is one YAML scalar', async (value) => {
    const { parse } = await import('yaml');
    expect(parse(`key: ${yamlString(value)}`)).toEqual({ key: value });
  });

  it('handlebars does not HTML-escape (ip=dhcp stays ip=dhcp)', () => {
    const node = assignedNode(fixture.ctx, 'rocky-9', { hostname: 'noescape-1' });
    const script = bootScriptFor(fixture.ctx, node.mac).script;
    expect(script).toContain('ip=dhcp');
    expect(script).not.toContain('&#x3D;');
  });
});

describe('GRUB configs from the same plan', () => {
  it('quotes the autoinstall ds=nocloud;s= word and boots the disk after the install', async () => {
    const { renderGrubConfig } = await import('../../server/render/grub.ts');
    const node = assignedNode(fixture.ctx, 'ubuntu-24.04', { hostname: 'grub-1' });
    const config = renderGrubConfig(fixture.ctx, node.mac);
    expect(config).toMatch(/^\s+linux \/ubuntu-24\.04\/vmlinuz .* 'ds=nocloud;s=http:\/\/\S+\/' /m);
    expect(config).toMatch(/^\s+initrd \/ubuntu-24\.04\/initrd$/m);
    const token = fixture.ctx.services.nodes.installTokenOf(node)!;
    expect(fixture.ctx.services.callbacks.authorize({ token, what: 'test', source: node.addresses.management! }, 'refuse').ok).toBe(true);
    fixture.ctx.services.nodes.apply(fixture.ctx.services.nodes.apply(node, { kind: 'install-started' }, 'test'), { kind: 'install-done' }, 'test');
    expect(renderGrubConfig(fixture.ctx, node.mac)).toMatch(/^\s+exit$/m);
  });
});
