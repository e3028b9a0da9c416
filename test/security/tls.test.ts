// HTTPS for the web form and the API over real loopback sockets: a self-signed certificate made at first start
// (fingerprint logged, kept across restarts), the plain-HTTP listener serving only boot and installer routes
// and sending everything else to HTTPS, secure cookies, and the remote CLI against it (pinned fingerprint or CA
// file; an unpinned or wrong certificate refused before the token is sent).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { Accounts } from '../../server/http/auth/accounts.ts';
import type { HttpService } from '../../server/http/server.ts';
import { createLogger } from '../../server/log.ts';
import { startAppliance, type Appliance } from '../../server/main.ts';

const REPO = join(import.meta.dirname, '..', '..');
let dir: string;
let appliance: Appliance;
let lines: string[];
let http: HttpService;
let token: string;

async function start(dataDir: string, extra: Record<string, unknown> = {}) {
  const log: string[] = [];
  const config = loadConfig({ env: {}, overrides: { dataDir, 'http.host': '127.0.0.1', 'http.port': 0, 'http.tls.port': 0, 'orchestrator.enabled': false, 'log.level': 'info', ...extra } });
  const started = await startAppliance(config, createLogger('info', { write: (line: string) => void log.push(line) }));
  return { appliance: started, lines: log, http: started.services.find((s) => s.name === 'http') as HttpService };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rl-tls-'));
  ({ appliance, lines, http } = await start(join(dir, 'data')));
  const accounts = new Accounts(appliance.ctx.store);
  await accounts.addUser('tina', 'a long enough password', 'operator');
  token = accounts.createApiToken('tina', 'tls-test').token;
}, 60_000);

afterAll(async () => {
  await appliance?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const certPem = () => readFileSync(join(dir, 'data', 'tls', 'cert.pem'));

function https(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: http.tlsPort!, path, method: options.method ?? 'GET', headers: options.headers, ca: certPem() }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function racklift(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [join(REPO, 'bin', 'racklift.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000, cwd: dir }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('HTTPS for the web form and the API', () => {
  it('makes a self-signed certificate at first start, logs its fingerprint and keeps its key 0600', () => {
    expect(http.tlsPort).toBeGreaterThan(0);
    expect(http.tlsFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(lines.join('')).toContain(`SHA-256 ${http.tlsFingerprint}`);
    expect((statSync(join(dir, 'data', 'tls', 'key.pem')).mode & 0o777).toString(8)).toBe('600');
  });

  it('serves the login page over HTTPS with a Secure session cookie', async () => {
    const page = await https('/login');
    expect(page.status).toBe(200);
    expect(String(page.headers['set-cookie'])).toMatch(/racklift_login=[^;]+;.*Secure/);
  });

  it('serves only boot and installer routes over plain HTTP and sends the rest to HTTPS', async () => {
    const plain = `http://127.0.0.1:${http.port}`;
    expect((await fetch(`${plain}/boot.ipxe?mac=52:54:00:00:60:01`)).status).toBe(200);
    expect((await fetch(`${plain}/healthz`)).status).toBe(200);
    const login = await fetch(`${plain}/login`, { redirect: 'manual' });
    expect(login.status).toBe(308);
    expect(login.headers.get('location')).toBe(`https://127.0.0.1:${http.tlsPort}/login`);
    const api = await fetch(`${plain}/api/v1/nodes`, { redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(308);
    const post = await fetch(`${plain}/api/v1/nodes`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"mac":"52:54:00:00:60:02"}' });
    expect(post.status).toBe(403);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe('https_required');
    expect(appliance.ctx.store.nodes.getByMac('52:54:00:00:60:02')).toBeNull();
  });

  it('answers the API over HTTPS', async () => {
    const whoami = await https('/api/v1/whoami', { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.parse(whoami.body)).toMatchObject({ username: 'tina', role: 'operator' });
  });

  it('keeps the same certificate across a restart', async () => {
    await appliance.stop();
    ({ appliance, lines, http } = await start(join(dir, 'data')));
    expect(lines.join('')).toMatch(/self-signed certificate, SHA-256/);
    expect(http.tlsFingerprint).toBe(new (await import('node:crypto')).X509Certificate(certPem()).fingerprint256);
  });

  it('uses the operator certificate and key files when given', async () => {
    const own = join(dir, 'own');
    mkdirSync(own);
    copyFileSync(join(dir, 'data', 'tls', 'cert.pem'), join(own, 'cert.pem'));
    copyFileSync(join(dir, 'data', 'tls', 'key.pem'), join(own, 'key.pem'));
    const other = await start(join(dir, 'other'), { 'http.tls.certFile': join(own, 'cert.pem'), 'http.tls.keyFile': join(own, 'key.pem') });
    try {
      expect(other.http.tlsFingerprint).toBe(http.tlsFingerprint);
      expect(other.lines.join('')).toMatch(/\(file certificate/);
    } finally {
      await other.appliance.stop();
    }
  });
});

describe('the remote CLI against HTTPS', { timeout: 180_000 }, () => {
  const url = () => `https://127.0.0.1:${http.tlsPort}`;

  it('works with the pinned fingerprint or the certificate as CA file', async () => {
    const pinned = await racklift(['--url', url(), '--token', token, '--tls-fingerprint', http.tlsFingerprint!, 'node', 'add', '52:54:00:00:60:03']);
    expect(pinned.stderr, pinned.stderr).toBe('');
    expect(appliance.ctx.store.nodes.getByMac('52:54:00:00:60:03')).not.toBeNull();
    const withCa = await racklift(['node', 'list'], { RACKLIFT_URL: url(), RACKLIFT_TOKEN: token, RACKLIFT_CA_FILE: join(dir, 'data', 'tls', 'cert.pem') });
    expect(withCa.code, withCa.stderr).toBe(0);
    expect(withCa.stdout).toContain('52:54:00:00:60:03');
  });

  it('refuses an unpinned self-signed certificate and a wrong pin, saying what to do, before sending the token', async () => {
    const unpinned = await racklift(['--url', url(), '--token', token, 'node', 'list']);
    expect(unpinned.code).toBe(1);
    expect(unpinned.stderr).toMatch(/is not trusted .*--tls-fingerprint/);
    const wrong = await racklift(['--url', url(), '--token', token, '--tls-fingerprint', 'AB'.repeat(32), 'node', 'list']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/not the appliance you pinned; nothing was sent/);
  });
});
