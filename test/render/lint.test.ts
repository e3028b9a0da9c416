// The linters themselves: they must catch what they claim to catch, or a green golden test means nothing.
import { describe, expect, it } from 'vitest';
import { checkKickstart } from '../../server/render/lint-kickstart.ts';
import { lintRendered } from '../../server/render/lint.ts';
import { toolAvailable } from '../../server/render/lint-shell.ts';
import { sha512Crypt } from '../../server/render/sha512-crypt.ts';

const HASH = sha512Crypt('x', 'saltsalt');
const GOOD_KS = `text
url --url="http://mirror.example/os"
lang en_US.UTF-8
rootpw --iscrypted ${HASH}
autopart --type=lvm
reboot
%packages
@core
%end
%post
echo done
%end
`;

describe('kickstart structural check', () => {
  it('accepts a small correct Kickstart', () => {
    expect(checkKickstart(GOOD_KS).problems).toEqual([]);
  });

  it.each([
    ['a section never closed', GOOD_KS.replace(/%end\n$/, ''), /never closed/],
    ['an unknown command', GOOD_KS.replace('text\n', 'txet\n'), /unknown command "txet"/],
    ['an unknown option', GOOD_KS.replace('autopart --type=lvm', 'autopart --typo=lvm'), /autopart has no option --typo/],
    ['a plain-text root password', GOOD_KS.replace(`rootpw --iscrypted ${HASH}`, 'rootpw --plaintext secret'), /rootpw must be --iscrypted/],
    ['a weak hash', GOOD_KS.replace(HASH, '$1$KEKVRRLj$GbaEa4dC8CirdAbuDvq9e1'), /SHA-512/],
    ['two install sources', GOOD_KS.replace('lang ', 'nfs --server=x --dir=/y\nlang '), /exactly one install source/],
    ['autopart with part', GOOD_KS.replace('reboot\n', 'part / --size=100\nreboot\n'), /autopart cannot be combined/],
    ['an unbalanced quote', GOOD_KS.replace('"http://mirror.example/os"', '"http://mirror.example/os'), /unbalanced/],
    ['a line injected into %packages', GOOD_KS.replace('@core', '@core\nrm -rf /'), /not a package/],
    ['no %post', GOOD_KS.replace('%post\necho done\n%end\n', ''), /no %post/],
    ['a section inside a section', GOOD_KS.replace('echo done', 'echo done\n%packages'), /inside %post/],
  ])('catches %s', (_name, text, pattern) => {
    expect(checkKickstart(text).problems.join('\n')).toMatch(pattern);
  });

  it('hands the %post body to shellcheck', () => {
    const { shellSections } = checkKickstart(GOOD_KS.replace('%post', '%post --interpreter=/bin/bash'));
    expect(shellSections).toEqual([{ section: '%post', line: 10, interpreter: 'bash', body: 'echo done\n' }]);
  });
});

describe.skipIf(!toolAvailable('shellcheck') || !toolAvailable('debconf-set-selections'))('preseed and shell linting', () => {
  const preseed = (late: string) => `d-i partman-auto/method string lvm
d-i passwd/root-password-crypted password ${HASH}
d-i preseed/late_command string ${late}
`;

  it('accepts a clean preseed', () => {
    expect(lintRendered('preseed', preseed('in-target true')).problems).toEqual([]);
  });

  it('catches a late_command shellcheck finds fault with', () => {
    expect(lintRendered('preseed', preseed('in-target rm -rf /$unset_var/*; echo `date`')).problems.join('\n')).toMatch(/SC\d+/);
  });

  it('catches plain-text passwords and duplicate questions', () => {
    const text = `${preseed('true')}d-i passwd/root-password password secret\nd-i partman-auto/method string regular\n`;
    const problems = lintRendered('preseed', text).problems.join('\n');
    expect(problems).toMatch(/plain-text password/);
    expect(problems).toMatch(/set again/);
  });

  it('reports what debconf-set-selections refuses', () => {
    expect(lintRendered('preseed', `${preseed('true')}d-i some/question nosuchtype value\n`).problems.join('\n')).toMatch(/debconf-set-selections: warning: Unknown type nosuchtype/);
  });

  it('checks autoinstall late-commands and the YAML itself', () => {
    expect(lintRendered('user-data', '#cloud-config\nautoinstall:\n  version: 1\n  late-commands:\n    - echo `date`\n').problems.join('\n')).toMatch(/SC2006/);
    expect(lintRendered('user-data', '#cloud-config\nautoinstall: [unclosed\n').problems.join('\n')).toMatch(/not valid YAML/);
  });
});

describe('iPXE and pxelinux checks', () => {
  it('catches a goto without its label and a stray setting expansion', () => {
    const problems = lintRendered('ipxe', '#!ipxe\nkernel http://x/${hostname} || goto nowhere\nboot\n').problems.join('\n');
    expect(problems).toMatch(/goto nowhere has no label/);
    expect(problems).toMatch(/unexpected setting expansion/);
  });

  it('catches a pxelinux DEFAULT without its LABEL', () => {
    expect(lintRendered('pxelinux', 'DEFAULT install\nLABEL local\n  LOCALBOOT 0\n').problems.join('\n')).toMatch(/label install is not defined/);
  });
});
