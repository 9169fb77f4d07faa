/**
 * TEST DOUBLE of the `tailscale` CLI for the peer-provision lab. NOT the real Tailscale client.
 *
 * Installed into a lab machine by the lab control server's /install.sh as
 * /usr/local/lib/tailscale-standin/tailscale.mjs, run by the machine's /usr/bin/node through the
 * wrapper /usr/local/bin/tailscale. It talks only to the lab control server (URL in
 * /etc/tailscale-standin/control-url, an address inside the lab's hub namespace) and changes only the
 * machine's own `tailscale0` interface (a veth on the lab's simulated-tailnet bridge).
 *
 * On a systemd machine its install script also adds `tailscaled.service` running `tailscale.mjs tailscaled`, a stand-in
 * daemon listening on /run/tailscale/tailscaled.sock; from then on (marker /etc/tailscale-standin/requires-tailscaled)
 * every command but `version` fails like the real CLI while that daemon is not running. As with the real CLI, a
 * non-root user may read (status, ip) but not change (up, down, logout) the node.
 * Supported: version | up [--auth-key=file:PATH|VALUE] [--hostname=] [--advertise-tags=] [--reset] [--force-reauth]
 * [--timeout=] [--accept-dns] [--accept-routes] | status [--json] | ip [-4|-6|-1] | logout | down.
 * Node key expiry as the real client shows it: `status --json` has Self.KeyExpiry (RFC 3339) only when the node's key
 * expires (absent for a tagged node: expiry disabled), and `Expired: true` plus BackendState "NeedsLogin" once it has
 * (ipnlocal: "the node key expired, need to relogin"). A logged-in node ignores a new auth key unless `--force-reauth`:
 * then it re-authenticates with it (same node, same address, a new key expiry); an expired one logs in with a key.
 * Every invocation's argv is appended as a JSON line to /var/log/tailscale-standin/argv.jsonl
 * (a plain --auth-key=VALUE is accepted but flagged `"leak": true`).
 * This file must only use node builtins: it is served as-is to the machines (Node 20).
 */

import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { dirname } from 'node:path';

const VERSION = '1.90.0-standin';
const STATE_FILE = '/var/lib/tailscale-standin/state.json';
const LOG_DIR = '/var/log/tailscale-standin';
const CONTROL_FILE = '/etc/tailscale-standin/control-url';
const IFACE = 'tailscale0';
const DAEMON_MARKER = '/etc/tailscale-standin/requires-tailscaled';
const SOCKET = '/run/tailscale/tailscaled.sock';

interface Prefs {
  hostname?: string;
  advertiseTags?: string[];
  acceptDns?: boolean;
  acceptRoutes?: boolean;
}
interface State {
  backendState: 'NeedsLogin' | 'Running' | 'Stopped';
  nodeId?: string;
  ip?: string;
  prefs: Prefs;
}
interface Node {
  nodeId: string;
  hostname: string;
  ip: string;
  tags: string[];
  online: boolean;
  keyExpiry?: string;
}
const expired = (n: Node | undefined) => Boolean(n?.keyExpiry && Date.parse(n.keyExpiry) <= Date.now());

class Fail extends Error {
  constructor(
    msg: string,
    public code = 1,
  ) {
    super(msg);
  }
}

function loadState(): State {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as State;
  } catch {
    return { backendState: 'NeedsLogin', prefs: {} };
  }
}
function saveState(s: State): void {
  mkdirSync('/var/lib/tailscale-standin', { recursive: true });
  // readable by all (no secret in it): what the real CLI gets from tailscaled's socket as any user
  writeFileSync(STATE_FILE + '.tmp', JSON.stringify(s, null, 2) + '\n', { mode: 0o644 });
  renameSync(STATE_FILE + '.tmp', STATE_FILE);
}
function controlUrl(): string {
  try {
    return readFileSync(CONTROL_FILE, 'utf8').trim();
  } catch {
    throw new Fail('tailscale-standin: not installed correctly (no ' + CONTROL_FILE + ')');
  }
}
async function control(path: string, body?: unknown): Promise<any> {
  const res = await fetch(
    controlUrl() + path,
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  ).catch((e: Error) => {
    throw new Fail('backend error: control server unreachable: ' + e.message);
  });
  const data = (await res.json().catch(() => ({}))) as any;
  if (!res.ok) throw new Fail('backend error: ' + (data.error ?? `HTTP ${res.status}`));
  return data;
}
function ipCmd(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
function addAddr(ip: string): void {
  ipCmd('link', 'set', IFACE, 'up');
  ipCmd('addr', 'replace', `${ip}/10`, 'dev', IFACE);
}
function delAddr(ip: string | undefined): void {
  if (ip) {
    try {
      ipCmd('addr', 'del', `${ip}/10`, 'dev', IFACE);
    } catch {
      /* already gone */
    }
  }
}

/** Go-flag-like parser: -x / --x, --x=v or --x v for non-booleans; unknown flags fail like the real CLI. */
function parseFlags(args: string[], spec: Record<string, 'bool' | 'string'>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-')) throw new Fail(`too many non-flag arguments: ${JSON.stringify(args.slice(i))}`, 2);
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const kind = spec[name];
    if (!kind) throw new Fail(`flag provided but not defined: -${name}`, 2);
    if (kind === 'bool') out[name] = eq < 0 ? true : body.slice(eq + 1) !== 'false';
    else if (eq >= 0) out[name] = body.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new Fail(`flag needs an argument: -${name}`, 2);
      out[name] = args[++i]!;
    }
  }
  return out;
}
function parseDuration(s: string): number {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  let seen = '';
  while ((m = re.exec(s))) {
    seen += m[0];
    ms += Number(m[1]) * ({ ms: 1, s: 1e3, m: 6e4, h: 3.6e6 } as const)[m[2] as 'ms'];
  }
  if (s !== '0' && seen !== s) throw new Fail(`invalid value "${s}" for flag -timeout: parse error`, 2);
  return ms;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cmdUp(args: string[], rawArgv: string[]): Promise<void> {
  const f = parseFlags(args, {
    'auth-key': 'string',
    authkey: 'string',
    hostname: 'string',
    'advertise-tags': 'string',
    reset: 'bool',
    timeout: 'string',
    'accept-dns': 'bool',
    'accept-routes': 'bool',
    json: 'bool',
    'force-reauth': 'bool',
    'accept-risk': 'string',
  });
  // As the real CLI (cmd/tailscale/cli/up.go): a re-authentication over an ssh session that comes from the tailnet
  // is refused unless the risk of losing that session is accepted.
  const fromTailnet = /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./.test(process.env.SSH_CLIENT ?? '');
  if (f['force-reauth'] && fromTailnet && !['lose-ssh', 'all'].includes(String(f['accept-risk'] ?? ''))) {
    throw new Fail(
      'You are connected over Tailscale; this action may result in your SSH session disconnecting.\nTo skip this warning, use --accept-risk=lose-ssh\naborted, no changes made',
    );
  }
  const keyArg = (f['auth-key'] ?? f.authkey) as string | undefined;
  const timeoutMs = f.timeout ? parseDuration(f.timeout as string) : 0;
  let tags: string[] | undefined;
  if (f['advertise-tags'] !== undefined) {
    tags = String(f['advertise-tags'])
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    for (const t of tags) {
      if (!t.startsWith('tag:')) throw new Fail(`tags must start with 'tag:', got: "${t}"`);
      if (!/^tag:[a-zA-Z][a-zA-Z0-9-]*$/.test(t)) throw new Fail(`tag names can only contain numbers, letters, or dashes, got: "${t}"`);
    }
  }
  const mentioned: Prefs = {};
  if (f.hostname !== undefined) mentioned.hostname = String(f.hostname);
  if (tags !== undefined) mentioned.advertiseTags = tags;
  if (f['accept-dns'] !== undefined) mentioned.acceptDns = f['accept-dns'] as boolean;
  if (f['accept-routes'] !== undefined) mentioned.acceptRoutes = f['accept-routes'] as boolean;

  const st = loadState();
  // Real tailscale (issue #5597): every non-default pref must be repeated unless --reset.
  if (st.nodeId && !f.reset) {
    const missing = (Object.keys(st.prefs) as (keyof Prefs)[]).filter((k) => st.prefs[k] !== undefined && !(k in mentioned));
    if (missing.length) {
      const flagName: Record<keyof Prefs, string> = {
        hostname: '--hostname',
        advertiseTags: '--advertise-tags',
        acceptDns: '--accept-dns',
        acceptRoutes: '--accept-routes',
      };
      const all = { ...st.prefs, ...mentioned };
      const line = (Object.keys(all) as (keyof Prefs)[])
        .map((k) => `${flagName[k]}=${Array.isArray(all[k]) ? (all[k] as string[]).join(',') : all[k]}`)
        .join(' ');
      throw new Fail(
        `Error: changing settings via 'tailscale up' requires mentioning all\nnon-default flags. To proceed, either re-run your command with --reset or\nuse the command below to explicitly mention the current value of\nall non-default flags:\n\n\ttailscale up ${line}\n`,
      );
    }
  }
  const prefs: Prefs = { ...(f.reset ? {} : st.prefs), ...mentioned };
  const host = prefs.hostname ?? osHostname();

  let key: string | undefined;
  if (keyArg !== undefined) {
    if (keyArg.startsWith('file:')) {
      try {
        key = readFileSync(keyArg.slice(5), 'utf8').trim();
      } catch (e) {
        throw new Fail(`reading auth key: ${(e as Error).message}`);
      }
    } else key = keyArg;
  }
  void rawArgv;
  if (st.nodeId) {
    const self = ((await control('/machine/nodes').catch(() => ({ nodes: [] }))).nodes as Node[]).find((n) => n.nodeId === st.nodeId);
    if (self && key && (f['force-reauth'] || expired(self))) {
      // Re-authenticate with the new key: the same node (same address), a new node key and key expiry.
      const node = (await control('/machine/reauth', {
        nodeId: st.nodeId,
        authKey: key.split('?')[0],
        hostname: host,
        tags: prefs.advertiseTags ?? [],
      })) as Node;
      addAddr(node.ip);
      saveState({ backendState: 'Running', nodeId: st.nodeId, ip: node.ip, prefs });
      return;
    }
    if (self && expired(self)) {
      process.stderr.write(`\nTo authenticate, visit:\n\n\t${controlUrl()}/a/standin-interactive-login-not-supported\n\n`);
      throw new Fail('node key expired: log in again (an auth key, or --force-reauth)');
    }
    // Already logged in: the auth key is ignored, prefs are applied, node comes (back) up.
    const node = await control('/machine/update', { nodeId: st.nodeId, hostname: host, tags: prefs.advertiseTags ?? [], online: true }).catch((e: Fail) => e);
    if (!(node instanceof Fail)) {
      addAddr(node.ip);
      saveState({ backendState: 'Running', nodeId: st.nodeId, ip: node.ip, prefs });
      return;
    }
    // node was deleted at the control server: fall through to a fresh login
  }
  if (!key) {
    process.stderr.write(`\nTo authenticate, visit:\n\n\t${controlUrl()}/a/standin-interactive-login-not-supported\n\n`);
    await sleep(Math.min(timeoutMs || 60_000, 60_000));
    throw new Fail('timeout waiting for Tailscale service to enter a Running state; last state: NeedsLogin');
  }
  const node = (await control('/machine/register', { authKey: key.split('?')[0], hostname: host, tags: prefs.advertiseTags ?? [] })) as Node;
  addAddr(node.ip);
  saveState({ backendState: 'Running', nodeId: node.nodeId, ip: node.ip, prefs });
}

async function cmdStatus(args: string[]): Promise<void> {
  const f = parseFlags(args, { json: 'bool', peers: 'bool', self: 'bool', active: 'bool', browser: 'bool', web: 'bool' });
  const st = loadState();
  let peers: Node[] = [];
  let self: Node | undefined;
  if (st.nodeId) {
    const all = (await control('/machine/nodes').catch(() => ({ nodes: [] }))).nodes as Node[];
    self = all.find((n) => n.nodeId === st.nodeId);
    peers = all.filter((n) => n.nodeId !== st.nodeId);
  }
  // An expired node key: the backend needs a login again (ipnlocal nextStateLocked), the node is offline.
  const backendState = st.backendState === 'Running' && expired(self) ? 'NeedsLogin' : st.backendState;
  const running = backendState === 'Running';
  if (f.json) {
    // KeyExpiry and Expired as ipnstate.PeerStatus has them: `*time.Time` and bool, both omitempty
    const expiry = (n: Node | undefined) => ({ KeyExpiry: n?.keyExpiry, Expired: expired(n) || undefined });
    const peerObj = (n: Node) => ({
      ID: n.nodeId,
      PublicKey: `nodekey:${n.nodeId}`,
      HostName: n.hostname,
      DNSName: `${n.hostname}.lab-tailnet.ts.net.`,
      OS: 'linux',
      TailscaleIPs: [n.ip],
      Tags: n.tags.length ? n.tags : undefined,
      Online: n.online && !expired(n),
      Active: false,
      ...expiry(n),
    });
    const out = {
      Version: VERSION,
      TUN: true,
      BackendState: backendState,
      HaveNodeKey: Boolean(st.nodeId),
      AuthURL: '',
      TailscaleIPs: running && st.ip ? [st.ip] : null,
      Self: {
        ID: st.nodeId ?? '',
        PublicKey: st.nodeId ? `nodekey:${st.nodeId}` : 'nodekey:0000',
        HostName: self?.hostname ?? st.prefs.hostname ?? osHostname(),
        DNSName: self ? `${self.hostname}.lab-tailnet.ts.net.` : '',
        OS: 'linux',
        TailscaleIPs: running && st.ip ? [st.ip] : null,
        Tags: self?.tags.length ? self.tags : undefined,
        Online: running,
        Active: false,
        ...expiry(self),
      },
      Health: running ? [] : [backendState === 'Stopped' ? 'Tailscale is stopped.' : expired(self) ? 'Node key expired.' : 'You are logged out.'],
      MagicDNSSuffix: 'lab-tailnet.ts.net',
      CurrentTailnet: st.nodeId ? { Name: 'lab-tailnet', MagicDNSSuffix: 'lab-tailnet.ts.net', MagicDNSEnabled: false } : null,
      Peer: running && f.peers !== false ? Object.fromEntries(peers.map((n) => [`nodekey:${n.nodeId}`, peerObj(n)])) : {},
      User: {},
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return;
  }
  if (st.backendState === 'NeedsLogin') throw new Fail('Logged out.');
  if (st.backendState === 'Stopped') throw new Fail('Tailscale is stopped.');
  const line = (n: Node) =>
    `${n.ip.padEnd(16)}${n.hostname.padEnd(16)}${(n.tags.length ? 'tagged-devices' : 'lab').padEnd(16)}linux   ${n.online ? '-' : 'offline'}`;
  if (self) process.stdout.write(line(self) + '\n');
  for (const p of peers) process.stdout.write(line(p) + '\n');
}

function cmdIp(args: string[]): void {
  const f = parseFlags(args, { '4': 'bool', '6': 'bool', '1': 'bool' });
  const st = loadState();
  if (st.backendState !== 'Running' || !st.ip) throw new Fail(`no current Tailscale IPs; state: ${st.backendState}`);
  if (f['6'] && !f['4']) return; // the stand-in tailnet is IPv4 only
  process.stdout.write(st.ip + '\n');
}

/** The stand-in tailscaled: holds the local API socket open (the state itself stays in STATE_FILE). */
function daemon(): Promise<number> {
  mkdirSync(dirname(SOCKET), { recursive: true });
  rmSync(SOCKET, { force: true });
  const server = createServer((c) => {
    c.on('error', () => {
      /* a client that hung up first */
    });
    c.end('{"daemon":"tailscaled stand-in"}\n');
  });
  return new Promise((resolve) => {
    server.listen(SOCKET, () => {
      chmodSync(SOCKET, 0o666);
      // ready, as the real tailscaled tells systemd (sd_notify) once its local API listens
      if (process.env.NOTIFY_SOCKET) execFileSync('systemd-notify', ['--ready']);
    });
    const stop = () => server.close(() => resolve(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
/** Like the real CLI: with tailscaled installed as a service, nothing but `version` works while it is down. */
function needDaemon(): Promise<void> {
  if (!existsSync(DAEMON_MARKER)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const s = connect(SOCKET);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', () => reject(new Fail("failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start tailscaled ?)")));
  });
}
/** Like the real CLI without `--operator`: only root changes the node. */
function needRoot(cmd: string): void {
  if (process.getuid?.() !== 0) throw new Fail(`Access denied: prefs write access denied\n\nUse 'sudo tailscale ${cmd}'.`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const leak = argv.some((a) => /^--?auth-?key(=|$)/.test(a) && !/^--?auth-?key=file:/.test(a));
  try {
    mkdirSync(LOG_DIR, { recursive: true });
    appendFileSync(`${LOG_DIR}/argv.jsonl`, JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, argv, ...(leak ? { leak: true } : {}) }) + '\n');
  } catch {
    /* logging must not break the CLI */
  }
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'tailscaled') return await daemon();
    if (cmd && !['version', '--version', 'help', '--help', '-h'].includes(cmd)) await needDaemon();
    if (cmd === 'up' || cmd === 'down' || cmd === 'logout') needRoot(cmd);
    switch (cmd) {
      case 'version':
      case '--version':
        process.stdout.write(
          `${VERSION}\n  test double: peer-provision lab tailscale-standin (NOT the real Tailscale client)\n  go version: none (node ${process.version})\n`,
        );
        return 0;
      case 'up':
        await cmdUp(rest, argv);
        return 0;
      case 'status':
        await cmdStatus(rest);
        return 0;
      case 'ip':
        cmdIp(rest);
        return 0;
      case 'logout': {
        parseFlags(rest, {});
        const st = loadState();
        if (st.nodeId) await control('/machine/logout', { nodeId: st.nodeId }).catch(() => undefined);
        delAddr(st.ip);
        saveState({ backendState: 'NeedsLogin', prefs: {} });
        return 0;
      }
      case 'down': {
        parseFlags(rest, { 'accept-risk': 'string' });
        const st = loadState();
        if (st.nodeId) await control('/machine/update', { nodeId: st.nodeId, online: false }).catch(() => undefined);
        delAddr(st.ip);
        if (st.backendState === 'Running') saveState({ ...st, backendState: 'Stopped' });
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stderr.write(
          'USAGE\n  tailscale [flags] <subcommand> [command flags]\n\n(lab test double) subcommands: up, down, status, ip, logout, version\n',
        );
        return cmd === undefined ? 0 : 0;
      default:
        process.stderr.write(`tailscale: unknown subcommand: ${cmd}\n`);
        return 1;
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
    return e instanceof Fail ? e.code : 1;
  }
}

main().then((code) => process.exit(code));
