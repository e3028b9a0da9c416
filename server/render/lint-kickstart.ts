// A structural check of a Kickstart (pykickstart is not packaged for Debian 12): known commands with known
// options, sections opened and closed with %end, one install source, one partitioning scheme, a crypted root
// password, balanced quotes. Returns the problems and the shell bodies of %pre/%post for shellcheck.
import { isSha512CryptHash } from './sha512-crypt.ts';

export interface KickstartShellSection {
  section: string;
  /** 1-based line of the section header. */
  line: number;
  interpreter: 'sh' | 'bash' | 'other';
  body: string;
}

export interface KickstartReport {
  problems: string[];
  shellSections: KickstartShellSection[];
  commands: string[];
}

/** Commands and the options this checker knows for them (null: options not checked). */
const COMMANDS: Record<string, string[] | null> = {
  auth: ['useshadow', 'passalgo', 'enableshadow', 'enablemd5'],
  authselect: null,
  autopart: ['type', 'nohome', 'nolvm', 'noboot', 'noswap', 'encrypted', 'fstype', 'passphrase'],
  bootloader: ['location', 'append', 'boot-drive', 'driveorder', 'timeout', 'iscrypted', 'password', 'leavebootorder', 'md5pass', 'disabled'],
  btrfs: null, cdrom: [], clearpart: ['all', 'initlabel', 'drives', 'linux', 'none', 'list', 'disklabel'],
  cmdline: [], eula: ['agreed'], fcoe: null,
  firewall: ['disabled', 'enabled', 'service', 'port', 'trust', 'remove-service', 'use-system-defaults'],
  firstboot: ['enable', 'enabled', 'disable', 'disabled', 'reconfig'],
  graphical: ['non-interactive'], group: ['name', 'gid'], halt: ['eject', 'kexec'], harddrive: ['partition', 'dir'],
  ignoredisk: ['drives', 'only-use', 'interactive'], install: [], iscsi: null, iscsiname: [],
  keyboard: ['vckeymap', 'xlayouts', 'switch'], lang: ['addsupport'], liveimg: null, logging: ['host', 'port', 'level'],
  logvol: null, mediacheck: [], module: ['name', 'stream', 'disable'], mount: null,
  network: ['bootproto', 'device', 'ip', 'netmask', 'gateway', 'nameserver', 'hostname', 'onboot', 'activate', 'noipv4', 'noipv6', 'ipv6', 'mtu', 'nodefroute', 'nodns', 'ethtool', 'essid', 'wepkey', 'bondslaves', 'bondopts', 'vlanid', 'interfacename', 'teamslaves', 'teamconfig', 'bridgeslaves', 'bridgeopts', 'no-activate', 'dhcpclass', 'ipv6gateway', 'bindto'],
  nfs: ['server', 'dir', 'opts'], ostreesetup: null, part: null, partition: null, poweroff: ['eject', 'kexec'],
  raid: null, realm: null, reboot: ['eject', 'kexec'], repo: ['name', 'baseurl', 'mirrorlist', 'metalink', 'cost', 'excludepkgs', 'includepkgs', 'proxy', 'ignoregroups', 'noverifyssl', 'install'],
  reqpart: ['add-boot'], rescue: null, rootpw: ['iscrypted', 'plaintext', 'lock', 'allow-ssh'],
  selinux: ['disabled', 'enforcing', 'permissive'], services: ['enabled', 'disabled'], shutdown: ['eject', 'kexec'],
  skipx: [], snapshot: null, sshkey: ['username'], sshpw: null, text: ['non-interactive'],
  timesource: ['ntp-server', 'ntp-pool', 'ntp-disable', 'nts'],
  timezone: ['utc', 'isUtc', 'nontp', 'ntpservers'], updates: [], url: ['url', 'mirrorlist', 'metalink', 'proxy', 'noverifyssl'],
  user: ['name', 'gecos', 'groups', 'homedir', 'iscrypted', 'password', 'plaintext', 'lock', 'shell', 'uid', 'gid'],
  vnc: null, volgroup: null, xconfig: null, zerombr: [], zfcp: null,
};

const SINGLE_USE = ['url', 'rootpw', 'lang', 'timezone', 'bootloader', 'autopart', 'keyboard', 'selinux', 'firewall', 'zerombr', 'clearpart'];
const INSTALL_SOURCES = ['url', 'nfs', 'cdrom', 'harddrive', 'liveimg', 'ostreesetup'];
const SECTIONS = ['%pre', '%pre-install', '%post', '%packages', '%onerror', '%traceback', '%addon', '%anaconda', '%include', '%ksappend'];
const SHELL_SECTIONS = ['%pre', '%pre-install', '%post', '%onerror', '%traceback'];

/** shlex-style words: double and single quotes, backslash escapes inside double quotes. Throws on unbalanced quotes. */
export function kickstartWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unbalanced ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}

export function checkKickstart(text: string): KickstartReport {
  const problems: string[] = [];
  const shellSections: KickstartShellSection[] = [];
  const commands: string[] = [];
  const counts = new Map<string, number>();
  const lines = text.split('\n');
  let open: { name: string; line: number; interpreter: KickstartShellSection['interpreter']; body: string[] } | null = null;

  lines.forEach((raw, index) => {
    const n = index + 1;
    const line = raw.replace(/\r$/, '');
    if (/[\0\x0b\x0c]/.test(line)) problems.push(`line ${n}: control character`);
    if (open) {
      if (/^%end\s*$/.test(line.trim())) {
        if (SHELL_SECTIONS.includes(open.name)) shellSections.push({ section: open.name, line: open.line, interpreter: open.interpreter, body: open.body.join('\n') + '\n' });
        open = null;
      } else if (line.startsWith('%')) {
        problems.push(`line ${n}: ${line.split(/\s/)[0]} inside ${open.name} (opened on line ${open.line}) before its %end`);
      } else {
        open.body.push(line);
        if (open.name === '%packages' && line.trim() && !line.trim().startsWith('#') && !/^(@\^?|-)?[A-Za-z0-9][A-Za-z0-9._+:*-]*(\s+--[a-z]+)*$/.test(line.trim())) {
          problems.push(`line ${n}: ${JSON.stringify(line.trim())} is not a package, @group or -exclusion`);
        }
      }
      return;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    let words: string[];
    try {
      words = kickstartWords(trimmed);
    } catch (error) {
      problems.push(`line ${n}: ${(error as Error).message}`);
      return;
    }
    if (words.length === 0) return;
    const name = words[0]!;
    if (name.startsWith('%')) {
      if (name === '%end') {
        problems.push(`line ${n}: %end without an open section`);
        return;
      }
      if (!SECTIONS.includes(name)) {
        problems.push(`line ${n}: unknown section ${name}`);
        return;
      }
      if (name === '%include' || name === '%ksappend') return;
      const interpreterOption = words.find((word) => word.startsWith('--interpreter='))?.slice('--interpreter='.length);
      const interpreter = !interpreterOption || /\/(ba)?sh$/.test(interpreterOption) ? (interpreterOption?.endsWith('bash') ? 'bash' : 'sh') : 'other';
      open = { name, line: n, interpreter, body: [] };
      return;
    }
    if (!(name in COMMANDS)) {
      problems.push(`line ${n}: unknown command ${JSON.stringify(name)}`);
      return;
    }
    commands.push(name);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const known = COMMANDS[name];
    for (const word of words.slice(1)) {
      if (!word.startsWith('--')) continue;
      const option = word.slice(2).split('=')[0]!;
      if (known && !known.includes(option)) problems.push(`line ${n}: ${name} has no option --${option}`);
    }
    if (name === 'rootpw') {
      if (!words.includes('--iscrypted') && !words.includes('--lock')) problems.push(`line ${n}: rootpw must be --iscrypted (no plain-text passwords)`);
      const value = words.slice(1).find((word) => !word.startsWith('--'));
      if (words.includes('--iscrypted') && (!value || !isSha512CryptHash(value))) problems.push(`line ${n}: rootpw --iscrypted needs a SHA-512 crypt hash ($6$...)`);
    }
  });

  if (open) {
    const unclosed = open as { name: string; line: number };
    problems.push(`line ${unclosed.line}: ${unclosed.name} is never closed with %end`);
  }
  for (const name of SINGLE_USE) if ((counts.get(name) ?? 0) > 1) problems.push(`${name} appears ${counts.get(name)} times`);
  const sources = INSTALL_SOURCES.filter((name) => counts.has(name));
  if (sources.length !== 1) problems.push(`expected exactly one install source (${INSTALL_SOURCES.join(', ')}), found ${sources.length ? sources.join(', ') : 'none'}`);
  const manual = ['part', 'partition', 'raid', 'volgroup', 'logvol'].filter((name) => counts.has(name));
  if (counts.has('autopart') && manual.length > 0) problems.push(`autopart cannot be combined with ${manual.join(', ')}`);
  if (!counts.has('autopart') && manual.length === 0) problems.push('no partitioning: expected autopart or part/volgroup/logvol');
  if (!counts.has('rootpw') && !counts.has('user')) problems.push('no rootpw or user: nobody could log in');
  if (!counts.has('lang')) problems.push('no lang command');
  if (!['reboot', 'poweroff', 'halt', 'shutdown'].some((name) => counts.has(name))) problems.push('no reboot/poweroff: the installer would wait at the end');
  if (!shellSections.some((section) => section.section === '%post')) problems.push('no %post section: the done callback would never be sent');
  return { problems, shellSections, commands };
}
