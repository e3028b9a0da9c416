// The operator's path through the web form in a real browser: log in, assign a discovered node, watch its
// state change live (changed from here through the service), re-image it with the typed confirmation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startTestApi, type TestApi } from '../api/harness.ts';
import { haveChromium, openBrowser, type Browser } from './browser.ts';
import { seedRack } from './rack.ts';
import { emitStageOutput } from '../../server/orchestrator/live.ts';

if (!haveChromium) console.warn('test/web: /usr/bin/chromium is missing (apt-get install chromium); browser tests skipped');

describe.skipIf(!haveChromium)('web form in Chromium', () => {
  let api: TestApi;
  let browser: Browser;
  let nodeId: number;

  beforeAll(async () => {
    api = await startTestApi();
    seedRack(api.ctx);
    nodeId = api.ctx.services.nodes.discover('52:54:00:5e:00:01', { firmware: 'uefi-x64', archCode: 7, vendorClass: 'PXEClient:Arch:00007:UNDI:003016' }, 'dhcp').id;
    browser = await openBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('sends a visitor without a session to the login page, refuses a wrong password, then logs in', async () => {
    const { page } = browser;
    await page.goto(`${api.base}/nodes/${nodeId}`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'wrong password!');
    await page.click('button[type=submit]');
    expect(await page.textContent('.flash-error')).toContain('Wrong user name or password');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${api.base}/nodes/${nodeId}`);
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === 'racklift_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('shows the nodes table with every node and filters it by state', async () => {
    const { page } = browser;
    await page.goto(`${api.base}/nodes`);
    expect(await page.locator('#nodes-table tbody tr[data-node-id]').count()).toBe(api.ctx.store.nodes.size());
    const controller = api.ctx.services.nodes.find('ctl-02');
    expect(await page.textContent(`#node-${controller.id} .c-roles`)).toBe('controller, network');
    expect(await page.textContent(`#node-${controller.id} .c-stage`)).toContain('common:ntp');
    await page.selectOption('select[name=state]', 'failed');
    await page.click('.filters button[type=submit]');
    const states = await page.locator('#nodes-table tbody .c-state').allTextContents();
    expect(states.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(['failed']));
  });

  it('assigns roles, profile and address to the discovered node', async () => {
    const { page } = browser;
    await page.goto(`${api.base}/nodes/${nodeId}`);
    expect(await page.textContent('#node-state')).toBe('discovered');
    await page.fill('input[name=hostname]', 'ctl-01');
    await page.fill('input[name=managementAddress]', '10.236.0.150');
    await page.check('input[name=roles][value=controller]');
    await page.check('input[name=roles][value=network]');
    await page.selectOption('select[name=profile]', 'debian-12');
    await page.click('#assign');
    // 10.236.0.150 is inside the DHCP pool: refused, with the field marked and the typed values kept.
    expect(await page.textContent('#problem')).toContain('inside the dynamic pool');
    expect(await page.locator('label.invalid input[name=managementAddress]').count()).toBe(1);
    expect(await page.inputValue('input[name=hostname]')).toBe('ctl-01');
    await page.fill('input[name=managementAddress]', '10.236.0.11');
    await page.click('#assign');
    await page.waitForSelector('.flash-ok');
    expect(await page.textContent('#node-state')).toBe('assigned');
    const node = api.ctx.services.nodes.find(nodeId);
    expect(node).toMatchObject({ hostname: 'ctl-01', roles: ['controller', 'network'], profile: 'debian-12', state: 'assigned' });
    expect(api.ctx.store.events.listForNode(nodeId, 1)[0]).toMatchObject({ toState: 'assigned', actor: 'alice' });
  });

  it('shows state changes live on the node page and in the nodes table (server-sent events)', async () => {
    const { page } = browser;
    await page.goto(`${api.base}/nodes/${nodeId}`);
    await page.waitForSelector('#live-status[data-state=live]');
    const nodes = api.ctx.services.nodes;
    nodes.apply(nodes.find(nodeId), { kind: 'install-started' }, 'installer');
    await page.waitForSelector('#node-state:text-is("installing")');
    expect(await page.locator('#event-log tbody tr').first().textContent()).toContain('assigned → installing');
    expect(await page.isVisible('#state-changed')).toBe(true);

    await page.goto(`${api.base}/nodes`);
    await page.waitForSelector('#live-status[data-state=live]');
    nodes.apply(nodes.find(nodeId), { kind: 'install-done' }, 'installer');
    await page.waitForSelector(`#node-${nodeId} .c-state .state:text-is("installed")`);
  });

  it('streams stage output into the running stage\'s log without reload', async () => {
    const { page } = browser;
    const node = api.ctx.services.nodes.find('cmp-03');
    const run = api.ctx.store.stageRuns.list(node.id, node.generation).find((r) => r.status === 'running')!;
    await page.goto(`${api.base}/nodes/${node.id}`);
    await page.waitForSelector('#live-status[data-state=live]');
    emitStageOutput(api.ctx, { nodeId: node.id, hostname: 'cmp-03', stage: run.stage, runId: run.id, attempt: 1, stream: 'stdout', text: 'Setting up nova-compute (2:26.2.2-1) ...\n' });
    await page.waitForSelector(`pre.log[data-run-id="${run.id}"]:has-text("Setting up nova-compute")`);
  });

  it('re-images only after the hostname is typed', async () => {
    const { page } = browser;
    await page.goto(`${api.base}/nodes/${nodeId}`);
    expect(await page.isDisabled('#reimage')).toBe(true);
    await page.fill('#reimage-confirm', 'ctl-0');
    expect(await page.isDisabled('#reimage')).toBe(true);
    await page.fill('#reimage-confirm', 'ctl-01');
    expect(await page.isDisabled('#reimage')).toBe(false);
    await page.click('#reimage');
    await page.waitForSelector('.flash-ok');
    expect(await page.textContent('.flash-ok')).toContain('install generation 2');
    expect(await page.textContent('#node-state')).toBe('assigned');
    expect(api.ctx.services.nodes.find(nodeId).generation).toBe(2);
    expect(api.ctx.store.events.listForNode(nodeId, 1)[0]).toMatchObject({ message: 're-image: install generation 2', actor: 'alice' });
  });

  // Screenshots go to a temporary directory, so a test run leaves the tree as it was; `npm run screenshots`
  // writes the README's pictures into docs/screenshots.
  it('saves screenshots of the nodes page and of a node page', async () => {
    const { page } = browser;
    const shots = process.env.RACKLIFT_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'rl-shots-'));
    await page.goto(`${api.base}/nodes`);
    await page.waitForSelector('#live-status[data-state=live]');
    await page.screenshot({ path: join(shots, 'nodes.png') });
    const storage = api.ctx.services.nodes.find('stor-01');
    await page.goto(`${api.base}/nodes/${storage.id}`);
    await page.waitForSelector('#live-status[data-state=live]');
    expect(await page.textContent('pre.log >> nth=0')).toContain('Volume group "cinder-volumes" not found');
    await page.screenshot({ path: join(shots, 'node.png'), fullPage: true });
    if (!process.env.RACKLIFT_SCREENSHOT_DIR) rmSync(shots, { recursive: true, force: true });
  });

  it('pages through a long table, keeps the filters across pages, and finds a node by server-side search', async () => {
    const { page } = browser;
    const insert = api.ctx.store.db.transaction(() => {
      for (let i = 0; i < 150; i++) api.ctx.services.nodes.discover(`52:54:00:7e:00:${i.toString(16).padStart(2, '0')}`, {}, 'dhcp');
    });
    insert();
    const total = api.ctx.store.nodes.size();
    await page.goto(`${api.base}/nodes`);
    const rows = page.locator('#nodes-table tbody tr[data-node-id]');
    expect(await rows.count()).toBe(100);
    expect(await page.textContent('.paging >> nth=0 >> .page-position')).toBe(`Page 1 of 2 · 1–100 of ${total}`);
    expect(await page.locator('.paging >> nth=0 >> a.page-previous').count()).toBe(0);
    await page.click('.paging >> nth=0 >> a.page-next');
    await page.waitForURL(/page=2/);
    expect(await rows.count()).toBe(total - 100);
    expect(await page.textContent('.paging >> nth=0 >> .page-position')).toBe(`Page 2 of 2 · 101–${total} of ${total}`);
    expect(await page.locator('.paging >> nth=0 >> a.page-next').count()).toBe(0);

    await page.selectOption('select[name=state]', 'discovered');
    await page.selectOption('select[name=limit]', '50');
    await page.click('.filters button[type=submit]');
    await page.waitForURL(/limit=50/);
    const discovered = api.ctx.store.nodes.list('discovered').length;
    expect(await rows.count()).toBe(50);
    await page.click('.paging >> nth=-1 >> a.page-last');
    await page.waitForURL(/page=/);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toEqual({ state: 'discovered', limit: '50', page: String(Math.ceil(discovered / 50)) });
    expect(new Set(await page.locator('#nodes-table tbody .c-state').allTextContents())).toEqual(new Set(['discovered']));
    expect(await rows.count()).toBe(discovered % 50 || 50);

    await page.goto(`${api.base}/nodes`);
    await page.fill('input[name=q]', '52-54-00-7E-00-8A');
    await page.click('.filters button[type=submit]');
    await page.waitForURL(/q=/);
    expect(await rows.count()).toBe(1);
    expect(await page.textContent('#nodes-table tbody .mono a')).toBe('52:54:00:7e:00:8a');
    expect(await page.locator('.paging').count()).toBe(0);
    expect(await page.textContent('#nodes-count')).toBe(`1 of ${total}`);
  });

  it('loaded every page without a script error or a CSP violation', () => {
    expect(browser.problems).toEqual([]);
  });
});
