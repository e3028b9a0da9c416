import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../server/config.ts';

describe('config', () => {
  it('starts on a laptop with no file: ./var, HTTP 8080, DHCP and TFTP off', () => {
    const config = loadConfig({ env: {}, cwd: '/tmp' });
    expect(config).toMatchObject({ dataDir: '/tmp/var', http: { port: 8080 }, dhcpEnabled: false, tftpEnabled: false, publicUrl: 'http://127.0.0.1:8080' });
  });

  it('turns DHCP and TFTP on with a provisioning interface, and derives the public URL', () => {
    const config = loadConfig({
      env: {},
      overrides: { provisioning: { interface: 'eth1', address: '10.20.0.1', subnet: '10.20.0.0/24', pool: { start: '10.20.0.100', end: '10.20.0.200' } } },
    });
    expect(config).toMatchObject({ dhcpEnabled: true, tftpEnabled: true, publicUrl: 'http://10.20.0.1:8080' });
  });

  it('reads the file, then lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-config-'));
    writeFileSync(join(dir, 'racklift.yaml'), 'http:\n  port: 9000\ndataDir: /srv/racklift\n');
    const config = loadConfig({ env: { RACKLIFT_HTTP_PORT: '9100' }, cwd: dir });
    expect(config.http.port).toBe(9100);
    expect(config.dataDir).toBe('/srv/racklift');
    expect(config.source).toBe(join(dir, 'racklift.yaml'));
  });

  it('names the key and the reason when a value is bad', () => {
    expect(() => loadConfig({ env: { RACKLIFT_HTTP_PORT: '70000' } })).toThrow(/http\.port: .*65535/);
    expect(() => loadConfig({ env: {}, overrides: { provisioning: { subnet: '10.0.0.0/33' } } })).toThrow(/provisioning\.subnet: not a CIDR/);
    expect(() => loadConfig({ env: {}, overrides: { htpp: { port: 1 } } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { provisioning: { interface: 'eth1' } } })).toThrow(/needs its address and subnet/);
  });

  it('reports a missing or broken file', () => {
    expect(() => loadConfig({ env: {}, file: '/nonexistent/racklift.yaml' })).toThrow(/config file .*ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'rl-config-'));
    writeFileSync(join(dir, 'bad.yaml'), 'http: [unclosed\n');
    expect(() => loadConfig({ env: {}, file: join(dir, 'bad.yaml') })).toThrow(/not valid YAML/);
  });
});
