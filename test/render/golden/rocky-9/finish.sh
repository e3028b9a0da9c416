#!/bin/sh
# racklift: finishes the install of rocky-9-node1.rack.example (52:54:00:04:10:22), install generation 1.
# Runs inside the installed system (Kickstart %post, chroot of Preseed late_command, curtin in-target): installs
# the appliance's SSH key for root and reports the node's SSH host key with the done callback.
set -u
# The appliance is reached directly: installers export their package proxy (Preseed's in-target sets
# http_proxy), and the appliance's package cache answers nothing but package requests.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY
DONE_URL='http://10.231.4.1:8080/install/3-hdKngNJgUMemG7Es6T1C-u6IawnUFY/done'
FAILED_URL='http://10.231.4.1:8080/install/3-hdKngNJgUMemG7Es6T1C-u6IawnUFY/failed'
HOST_KEY=/etc/ssh/ssh_host_ed25519_key.pub

post_file() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null -H 'Content-Type: text/plain' --data-binary "@$2" "$1"
  else
    wget -q -O /dev/null --header='Content-Type: text/plain' --post-file="$2" "$1"
  fi
}

post_text() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null -H 'Content-Type: text/plain' --data-binary "$2" "$1"
  else
    wget -q -O /dev/null --header='Content-Type: text/plain' --post-data="$2" "$1"
  fi
}

fail() {
  echo "racklift: $1" >&2
  post_text "$FAILED_URL" "$1" || true
  exit 1
}

umask 077
mkdir -p /root/.ssh || fail 'could not create /root/.ssh'
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFtcGxlLXJhY2tsaWZ0LWtleS1mb3ItdGVzdHMtb25seQ racklift' > /root/.ssh/authorized_keys || fail 'could not write /root/.ssh/authorized_keys'
chmod 700 /root/.ssh || fail 'could not set the mode of /root/.ssh'
chmod 600 /root/.ssh/authorized_keys || fail 'could not set the mode of /root/.ssh/authorized_keys'
if command -v restorecon >/dev/null 2>&1; then restorecon -R /root/.ssh || true; fi
umask 022
# cloud-init (Ubuntu) would replace the host keys at first boot; the appliance pins the key reported below.
if [ -d /etc/cloud/cloud.cfg.d ]; then
  echo 'ssh_deletekeys: false' > /etc/cloud/cloud.cfg.d/99-racklift.cfg || fail 'could not keep the SSH host keys for cloud-init'
fi
test -s "$HOST_KEY" || ssh-keygen -A >/dev/null || fail 'there is no SSH host key and ssh-keygen -A failed'
post_file "$DONE_URL" "$HOST_KEY" || fail 'the done callback did not reach the appliance'
echo 'racklift: install reported done'
