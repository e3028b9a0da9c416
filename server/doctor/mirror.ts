// Does the mirror (or the package proxy in front of it) serve what an installer will ask for? The indexes, and
// for the Debian installer a sample of the components (.udeb) it loads after booting: the ones every netboot
// install downloads, and the kernel module packages of the installer kernel's ABI.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface Fetched {
  url: string;
  status: number | null;
  error?: string;
  body?: Buffer;
}

const TIMEOUT_MS = 15_000;
const MAX_BODY = 32 * 1024 * 1024;

/** One request to `url`, through `proxy` (an http:// proxy URL) when given. HTTPS goes direct. */
export function fetchThrough(url: string, proxy: string | null, method: 'GET' | 'HEAD' = 'HEAD'): Promise<Fetched> {
  if (url.startsWith('https://')) {
    return fetch(url, { method, signal: AbortSignal.timeout(TIMEOUT_MS) })
      .then(async (res) => ({ url, status: res.status, body: method === 'GET' ? Buffer.from(await res.arrayBuffer()) : undefined }))
      .catch((error: Error) => ({ url, status: null, error: error.message }));
  }
  const target = new URL(url);
  const via = proxy ? new URL(proxy) : null;
  return new Promise((resolve) => {
    const req = request(
      {
        host: via ? via.hostname : target.hostname,
        port: via ? Number(via.port || 80) : Number(target.port || 80),
        path: via ? url : `${target.pathname}${target.search}`,
        method,
        headers: { host: target.host, 'user-agent': 'racklift-doctor' },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY) chunks.push(chunk);
        });
        res.on('end', () => resolve({ url, status: res.statusCode ?? null, body: method === 'GET' ? Buffer.concat(chunks) : undefined }));
        res.on('error', (error) => resolve({ url, status: null, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (error) => resolve({ url, status: null, error: error.message }));
    req.end();
  });
}

/** Components every Debian netboot install downloads (anna, then base-installer and friends). */
export const INSTALLER_COMPONENTS = [
  'download-installer', 'base-installer', 'bootstrap-base', 'apt-setup-udeb', 'apt-mirror-setup', 'pkgsel',
  'partman-base', 'partman-auto', 'partman-ext3', 'grub-installer', 'finish-install', 'clock-setup',
];
/** Kernel module packages the installer loads for its own kernel (`<name>-<abi>-di`). */
export const KERNEL_MODULE_COMPONENTS = ['nic-modules', 'scsi-modules', 'ata-modules', 'usb-modules'];

/** The release string in a Linux bzImage header (e.g. `6.1.0-50-amd64`), or null. */
export function kernelRelease(image: Buffer): string | null {
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
  const offset = image.readUInt16LE(0x20e) + 0x200;
  const end = image.indexOf(0, offset);
  if (offset >= image.length || end < 0) return null;
  return image.toString('latin1', offset, end).split(' ')[0] ?? null;
}

export interface InstallerMirrorReport {
  indexes: Fetched[];
  components: { name: string; fetched: Fetched | null }[];
}

export async function checkDebianInstallerMirror(mirror: string, suite: string, kernelAbi: string | null, proxy: string | null): Promise<InstallerMirrorReport> {
  const base = `${mirror.replace(/\/+$/, '')}/dists/${suite}`;
  const release = await fetchThrough(`${base}/Release`, proxy, 'GET');
  const packages = await fetchThrough(`${base}/main/binary-amd64/Packages.xz`, proxy, 'HEAD');
  const udebIndex = await fetchThrough(`${base}/main/debian-installer/binary-amd64/Packages.gz`, proxy, 'GET');
  const indexes = [release, packages, udebIndex].map(({ body: _body, ...rest }) => rest);
  const components: InstallerMirrorReport['components'] = [];
  if (udebIndex.status !== 200 || !udebIndex.body) return { indexes, components };
  let text: string;
  try {
    text = gunzipSync(udebIndex.body).toString('utf8');
  } catch {
    return { indexes, components };
  }
  const files = new Map<string, string>();
  for (const stanza of text.split('\n\n')) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    const file = /^Filename: (\S+)$/m.exec(stanza)?.[1];
    if (name && file) files.set(name, file);
  }
  const wanted = [...INSTALLER_COMPONENTS, ...(kernelAbi ? KERNEL_MODULE_COMPONENTS.map((name) => `${name}-${kernelAbi}-di`) : [])];
  const results = await Promise.all(
    wanted.map(async (name) => {
      const file = files.get(name);
      return { name, fetched: file ? await fetchThrough(`${mirror.replace(/\/+$/, '')}/${file}`, proxy, 'HEAD') : null };
    }),
  );
  components.push(...results);
  return { indexes, components };
}
