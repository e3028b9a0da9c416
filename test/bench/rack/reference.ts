// The rack benchmark's reference: what a hand-made dnsmasq + nginx setup serves to the same rack. dnsmasq
// answers DHCP (same pool, lease file written on every change, as racklift persists its leases) and TFTP from
// the same boot/ directory; a PXE ROM gets undionly.kpxe, iPXE (user class iPXE) gets the URL of a static
// script on nginx: the install script for the machines that install, a local-boot one for the others. nginx
// (sendfile on, one worker) serves the scripts and /boot/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ReferenceFiles {
  dnsmasqConf: string;
  nginxConf: string;
}

export function referenceConfigs(options: { dir: string; bootDir: string; serverAddress: string; httpPort: number; installMacs: string[]; addressPlan: string[] }): ReferenceFiles {
  const { dir, bootDir, serverAddress, httpPort } = options;
  const base = `http://${serverAddress}:${httpPort}`;
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(
    join(dir, 'scripts', 'install.ipxe'),
    `#!ipxe
kernel ${base}/boot/debian-12/linux initrd=initrd.gz auto=true priority=critical || goto failed
initrd --name initrd.gz ${base}/boot/debian-12/initrd.gz || goto failed
boot || goto failed
:failed
sleep 30
`,
  );
  writeFileSync(join(dir, 'scripts', 'local.ipxe'), '#!ipxe\nexit\n');
  const dnsmasqConf = join(dir, 'dnsmasq.conf');
  writeFileSync(
    dnsmasqConf,
    [
      'port=0',
      'user=root',
      'bind-interfaces',
      ...options.addressPlan,
      'dhcp-authoritative',
      'no-ping',
      'dhcp-lease-max=5000',
      `dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
      `pid-file=${join(dir, 'dnsmasq.pid')}`,
      `log-facility=${join(dir, 'dnsmasq.log')}`,
      'quiet-dhcp',
      'enable-tftp',
      `tftp-root=${bootDir}`,
      'tftp-max=1000',
      'dhcp-userclass=set:ipxe,iPXE',
      ...options.installMacs.map((mac) => `dhcp-host=${mac},set:install`),
      `dhcp-boot=tag:!ipxe,undionly.kpxe,,${serverAddress}`,
      `dhcp-boot=tag:ipxe,tag:install,${base}/install.ipxe`,
      `dhcp-boot=tag:ipxe,tag:!install,${base}/local.ipxe`,
      '',
    ].join('\n'),
  );
  const nginxConf = join(dir, 'nginx.conf');
  writeFileSync(
    nginxConf,
    `daemon off; user root; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/logs/error.log;
events { worker_connections 1024; }
http { access_log off; sendfile on; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir};
  uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen ${serverAddress}:${httpPort};
    location /boot/ { alias ${bootDir}/; }
    location / { root ${dir}/scripts; } } }
`,
  );
  return { dnsmasqConf, nginxConf };
}
