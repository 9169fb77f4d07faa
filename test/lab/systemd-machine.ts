/**
 * Lab machines of kind `systemd`: the way most people run OpenClaw. A real systemd as PID 1
 * (`systemd-nspawn --boot --register=no --keep-unit`) booting the cached Debian rootfs (test/lab/prepare-rootfs.sh)
 * through an overlay of the machine's own, inside the machine's lab network namespace:
 *   - sshd is Debian's `ssh.service`; key login as the unprivileged user `lab` (passwordless sudo), root login refused;
 *   - lingering is on for `lab` (/var/lib/systemd/linger/lab), so `user@1000.service` runs without a login;
 *   - OpenClaw is set up as its docs say: ~/.openclaw/openclaw.json (token auth), then `openclaw gateway install`
 *     as `lab`, which writes and starts the user unit `openclaw-gateway.service`;
 *   - the lab's Tailscale installer, run by the tool, installs the real tailscaled with its package's `tailscaled.service`.
 * Node 24 and openclaw come read-only from the host cache, as for the other kind.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ROOTFS_VERSION = 'v1'; // keep in step with VERSION in prepare-rootfs.sh
export const LAB_UID = 1000;
export const LAB_HOME = '/home/lab';
const NSPAWN = '/usr/bin/systemd-nspawn';

export const rootfsDir = (cacheDir: string) => join(cacheDir, `debian-rootfs-${ROOTFS_VERSION}`);

/** Why machines of kind systemd cannot run here (with the command that fixes it), or undefined when they can. */
export function systemdKindMissing(cacheDir: string, prepareCmd: string): string | undefined {
  if (!existsSync(NSPAWN)) return `${NSPAWN} missing (package systemd-container): run \`${prepareCmd}\``;
  if (!existsSync(join(rootfsDir(cacheDir), '.pplab-rootfs'))) {
    return `the Debian rootfs for systemd machines is not built at ${rootfsDir(cacheDir)}: run \`${prepareCmd}\``;
  }
  if (!readFileSync('/proc/filesystems', 'utf8').includes('cgroup2')) return 'systemd machines need cgroup v2';
  return undefined;
}

function put(path: string, content: string, mode: number, uid = 0): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  chownSync(path, uid, uid);
}
function dir(path: string, mode: number, uid = 0): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  chownSync(path, uid, uid);
}

export interface SystemdMachineFiles {
  name: string;
  dir: string; // <state>/machines/mN
  hostsText: string;
  hostKey: string; // private host key (ed25519), content
  hostPub: string; // its .pub line
  clientKey: string; // the lab's ssh identity (private), for machine-to-machine ssh
  clientPub: string;
  knownHosts: string;
  sshConfig: string; // in-machine ~/.ssh/config
  gatewayConfig?: string; // ~lab/.openclaw/openclaw.json; none: OpenClaw not set up
}

/**
 * Mounts the machine's root (overlay: the cached rootfs below, <dir>/upper above) at <dir>/rootfs and writes its
 * own files through it: hostname, machine-id, host key, the lab user's ssh files and OpenClaw config.
 */
export function prepareSystemdRoot(cacheDir: string, f: SystemdMachineFiles): string {
  const root = join(f.dir, 'rootfs');
  for (const d of ['upper', 'overlay-work', 'rootfs']) mkdirSync(join(f.dir, d), { recursive: true });
  const r = spawnSync(
    'mount',
    [
      '-n',
      '-t',
      'overlay',
      `pplab-${f.name}-root`,
      '-o',
      `lowerdir=${rootfsDir(cacheDir)},upperdir=${join(f.dir, 'upper')},workdir=${join(f.dir, 'overlay-work')}`,
      root,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`lab: overlay root for ${f.name} failed: ${r.stderr.trim()}`);
  put(join(root, 'etc/hostname'), `${f.name}\n`, 0o644);
  put(join(root, 'etc/hosts'), f.hostsText.replace('127.0.0.1 localhost', `127.0.0.1 localhost\n127.0.1.1 ${f.name}`), 0o644);
  put(join(root, 'etc/machine-id'), randomBytes(16).toString('hex') + '\n', 0o444);
  put(join(root, 'etc/ssh/ssh_host_ed25519_key'), f.hostKey, 0o600);
  put(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), f.hostPub + '\n', 0o644);
  const ssh = join(root, LAB_HOME.slice(1), '.ssh');
  dir(ssh, 0o700, LAB_UID);
  put(join(ssh, 'authorized_keys'), f.clientPub, 0o600, LAB_UID);
  put(join(ssh, 'id_ed25519'), f.clientKey, 0o600, LAB_UID);
  put(join(ssh, 'id_ed25519.pub'), f.clientPub, 0o644, LAB_UID);
  put(join(ssh, 'known_hosts'), f.knownHosts, 0o644, LAB_UID);
  put(join(ssh, 'config'), f.sshConfig, 0o600, LAB_UID);
  if (f.gatewayConfig !== undefined) {
    const oc = join(root, LAB_HOME.slice(1), '.openclaw');
    dir(oc, 0o700, LAB_UID);
    put(join(oc, 'openclaw.json'), f.gatewayConfig, 0o600, LAB_UID);
  }
  return root;
}

/**
 * The cgroup hierarchies of this host (cgroup v2 alone, or v1 `name=systemd` + the unified one). Without a systemd on
 * the host, nspawn puts a container under `<its own cgroup>/payload`: started from the same cgroup, every machine
 * would share one tree (`/payload/system.slice/ssh.service` for all), so each machine's nspawn starts in its own.
 */
function cgroupRoots(): string[] {
  if (existsSync('/sys/fs/cgroup/cgroup.procs')) return ['/sys/fs/cgroup'];
  return ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'].filter((h) => existsSync(`${h}/cgroup.procs`));
}
const machineCgroups = (name: string) => cgroupRoots().map((r) => `${r}/pplab-${name}`);

/** Removes the machines' cgroups (after their processes are gone): deepest first; a busy one stays. */
export function removeMachineCgroups(): void {
  const rmTree = (dir: string) => {
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(`${dir}/${e.name}`);
    } catch {
      return;
    }
    try {
      rmdirSync(dir);
    } catch {
      /* still busy */
    }
  };
  for (const r of cgroupRoots()) {
    try {
      for (const e of readdirSync(r)) if (e.startsWith('pplab-')) rmTree(`${r}/${e}`);
    } catch {
      /* no such hierarchy */
    }
  }
}

/** Boots the machine: systemd-nspawn in the machine's network namespace and cgroups. Returns the pid of its nspawn (host). */
export function bootSystemdMachine(
  cacheDir: string,
  machineCache: string,
  name: string,
  ns: string,
  root: string,
  logPath: string,
  env: NodeJS.ProcessEnv,
): number {
  const cgroups = machineCgroups(name);
  for (const c of cgroups) mkdirSync(c, { recursive: true });
  const logFd = openSync(logPath, 'a');
  // the shell moves itself into the machine's cgroups, then becomes nspawn (paths: pplab-mN, nothing to quote)
  const enter = cgroups.map((c) => `echo $$ > ${c}/cgroup.procs || exit 1; `).join('');
  const p = spawn(
    '/bin/sh',
    [
      '-c',
      `${enter}exec "$0" "$@"`,
      NSPAWN,
      '--boot',
      '--register=no',
      '--keep-unit',
      '--quiet',
      `--directory=${root}`,
      `--machine=pplab-${name}`,
      `--hostname=${name}`,
      `--network-namespace-path=/run/netns/${ns}`,
      `--bind-ro=${cacheDir}:${machineCache}`,
      // tailscaled makes and configures its TUN device tailscale0: nspawn keeps CAP_NET_ADMIN only when asked, and
      // /dev/net/tun is neither in the machine's /dev nor allowed by its device policy unless bound
      '--capability=CAP_NET_ADMIN',
      '--bind=/dev/net/tun',
      '--property=DeviceAllow=/dev/net/tun rwm',
      '--resolv-conf=off',
      '--timezone=off',
      '--link-journal=no',
      '--console=passive',
    ],
    { detached: true, stdio: ['ignore', logFd, logFd], env },
  );
  p.unref();
  closeSync(logFd);
  if (!p.pid) throw new Error(`lab: systemd-nspawn for ${name} did not start`);
  return p.pid;
}

/** The host pid of the machine's PID 1 (systemd): the process in the machine's netns that is pid 1 in its own PID namespace. */
export function findInitPid(ns: string): number | undefined {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const p of pids) {
    try {
      const st = readFileSync(`/proc/${p}/status`, 'utf8');
      const nspid = /^NSpid:\s+(.*)$/m.exec(st)?.[1]?.trim().split(/\s+/);
      if (nspid && nspid.length > 1 && nspid.at(-1) === '1') return Number(p);
    } catch {
      /* gone */
    }
  }
  return undefined;
}

/**
 * The gateway's pid inside the machine: MainPID of lab's user unit openclaw-gateway.service, else of a system unit of
 * that name; undefined when neither runs. (Under the unit the gateway's process title is not `openclaw-gateway`.)
 */
export function systemdGatewayPid(initPid: number): number | undefined {
  const r = spawnSync(
    'nsenter',
    [
      '-t',
      String(initPid),
      '-m',
      '-u',
      '-n',
      '-p',
      '--',
      '/bin/sh',
      '-c',
      '{ runuser -u lab -- env XDG_RUNTIME_DIR=/run/user/1000 systemctl --user show -p MainPID --value openclaw-gateway.service;' +
        " systemctl show -p MainPID --value openclaw-gateway.service; } 2>/dev/null | grep -v '^0$'",
    ],
    { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
  );
  const pid = Number(r.stdout.trim().split('\n')[0]);
  return pid > 0 ? pid : undefined;
}
