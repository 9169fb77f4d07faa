/**
 * The lab's HTTP server: a TEST DOUBLE of a Tailscale control plane plus the stand-in's installer.
 * Runs inside the lab's hub network namespace, listening only on the hub's management address.
 *
 *   GET  /health                  {"ok":true}
 *   GET  /install.sh              installs the tailscale stand-in (test double) on the calling machine
 *   GET  /standin/tailscale.mjs   the stand-in CLI (dist/test/lab/tailscale-standin.js)
 *   POST /machine/register        {authKey, hostname, tags} -> node {nodeId, ip, keyExpiry?, ...} | 401 {error:"invalid key: ..."}
 *   POST /machine/reauth          {nodeId, authKey, hostname, tags} -> the same node (same id, same address) with a
 *                                 new node key: its key expiry renewed (when expiry is on for it) | 401 | 404
 *   POST /machine/update          {nodeId, hostname?, tags?, online?} -> node | 404
 *   POST /machine/logout          {nodeId} -> node removed ("gone")
 *   GET  /machine/nodes           {nodes:[...]} (registered, not logged out)
 *
 * Key registry: one JSON file per key in <state>/control/keys/ (written by lab.ts mintKey/revokeKey and by the
 * Tailscale API double, test/tailnet/api-double.ts, which mints and revokes keys as the real API does; updated here
 * when a single-use key is used). A key is accepted only while its record exists, is not revoked, not expired and,
 * single-use, not used. A tagged key (the API double's) makes a tagged node: the node gets the key's tags, as with
 * Tailscale, whatever it advertises. Nodes: <state>/control/nodes.json. Addresses 100.64.0.N are stable per hostname.
 * Node key expiry, as Tailscale does it: a tagged node's key does not expire (keyExpiry absent: the stand-in's status then
 * omits Self.KeyExpiry, as ipnstate's `*time.Time` with omitempty does); an untagged node's key expires NODE_KEY_DAYS after
 * it was registered. A test sets or clears a node's expiry in nodes.json (lab.setKeyExpiry), as an admin enabling or
 * disabling key expiry on the device would; a re-authentication (/machine/reauth: `tailscale up --force-reauth` with a
 * new key) gives a node whose expiry is on a new key expiring NODE_KEY_DAYS from then. Simplification: the real control
 * plane decides per tailnet settings whether a re-authenticated tagged node keeps expiry enabled.
 * Usage: node control-server.js <stateDir> <listenHost> <port> [<httpsPort>]
 * With httpsPort, the same routes are also served over https with <state>/control/tls/server.{key,crt} (signed
 * by the lab's CA, which the machines trust): peer-provision fetches the install script over https only.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KeyRecord {
  key: string;
  createdAt: string;
  expiresAt: string;
  reusable: boolean;
  used: boolean;
  usedBy?: string;
  revoked: boolean;
  /** Keys minted through the Tailscale API double (test/tailnet/api-double.ts): its key id and the key's tags. */
  id?: string;
  tags?: string[];
}
export interface NodeRecord {
  nodeId: string;
  hostname: string;
  ip: string;
  tags: string[];
  online: boolean;
  gone: boolean;
  key: string;
  /** RFC 3339; absent: the node key never expires (key expiry disabled, the default for tagged nodes). */
  keyExpiry?: string;
}
/** Tailscale's default node key expiry (a tailnet setting, 1 to 180 days). */
export const NODE_KEY_DAYS = 180;
const nodeKeyExpiry = (now: number) => new Date(now + NODE_KEY_DAYS * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
interface Nodes {
  nodes: NodeRecord[];
  ipByHostname: Record<string, number>;
  next: number;
}

export const keyFile = (stateDir: string, key: string) => join(stateDir, 'control', 'keys', `${key}.json`);

function writeJson(path: string, v: unknown): void {
  writeFileSync(path + '.tmp', JSON.stringify(v, null, 2) + '\n', { mode: 0o600 });
  renameSync(path + '.tmp', path);
}

export function installScript(base: string): string {
  return `#!/bin/sh
# TEST DOUBLE installer: installs the peer-provision lab's tailscale stand-in (NOT the real Tailscale).
set -eu
BASE="${base}"
if [ "$(id -u)" != 0 ]; then echo "install.sh (lab test double): must run as root" >&2; exit 1; fi
mkdir -p /usr/local/lib/tailscale-standin /etc/tailscale-standin /var/lib/tailscale-standin /var/log/tailscale-standin
curl -fsSL "$BASE/standin/tailscale.mjs" -o /usr/local/lib/tailscale-standin/tailscale.mjs.tmp
mv /usr/local/lib/tailscale-standin/tailscale.mjs.tmp /usr/local/lib/tailscale-standin/tailscale.mjs
printf '%s\\n' "$BASE" > /etc/tailscale-standin/control-url
cat > /usr/local/bin/tailscale.tmp <<'WRAP'
#!/bin/sh
# tailscale stand-in (peer-provision lab TEST DOUBLE)
exec /usr/bin/node /usr/local/lib/tailscale-standin/tailscale.mjs "$@"
WRAP
chmod 755 /usr/local/bin/tailscale.tmp
mv /usr/local/bin/tailscale.tmp /usr/local/bin/tailscale
touch /var/log/tailscale-standin/argv.jsonl && chmod 0666 /var/log/tailscale-standin/argv.jsonl  # the lab's leak log
# As the real package does on a systemd machine: a tailscaled service, enabled and started. From then on the
# CLI, like the real one, fails while tailscaled is not running.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  cat > /etc/systemd/system/tailscaled.service <<'UNIT'
[Unit]
Description=Tailscale node agent (peer-provision lab TEST DOUBLE)
After=network-pre.target

[Service]
# Type=notify, as the real unit: \`systemctl enable --now\` returns once the daemon's socket is up
Type=notify
NotifyAccess=all
ExecStart=/usr/bin/node /usr/local/lib/tailscale-standin/tailscale.mjs tailscaled
Restart=on-failure

[Install]
WantedBy=multi-user.target
UNIT
  : > /etc/tailscale-standin/requires-tailscaled
  systemctl daemon-reload
  systemctl enable --now tailscaled.service
fi
echo "Installation complete! (lab tailscale stand-in) Log in to start using Tailscale by running:"
echo
echo "tailscale up"
`;
}

function main(): void {
  const [stateDir, host, portStr, httpsPortStr] = process.argv.slice(2);
  if (!stateDir || !host || !portStr) {
    console.error('usage: control-server.js STATE HOST PORT');
    process.exit(2);
  }
  const port = Number(portStr);
  const base = `http://${host}:${port}`;
  const nodesPath = join(stateDir, 'control', 'nodes.json');
  mkdirSync(join(stateDir, 'control', 'keys'), { recursive: true });
  const standinPath = join(dirname(fileURLToPath(import.meta.url)), 'tailscale-standin.js');
  const loadNodes = (): Nodes => (existsSync(nodesPath) ? JSON.parse(readFileSync(nodesPath, 'utf8')) : { nodes: [], ipByHostname: {}, next: 1 });
  const pub = (n: NodeRecord) => ({
    nodeId: n.nodeId,
    hostname: n.hostname,
    ip: n.ip,
    tags: n.tags,
    online: n.online,
    ...(n.keyExpiry ? { keyExpiry: n.keyExpiry } : {}),
  });

  const send = (res: ServerResponse, code: number, body: unknown, type = 'application/json') => {
    const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<any>((resolve) => {
      let s = '';
      req.on('data', (c) => {
        s += c;
        if (s.length > 65536) req.destroy();
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(s || '{}'));
        } catch {
          resolve({});
        }
      });
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    try {
      if (req.method === 'GET' && (url.pathname === '/health' || url.pathname === '/'))
        return send(res, 200, { ok: true, testDouble: 'tailscale control plane stand-in' });
      if (req.method === 'GET' && url.pathname === '/install.sh') return send(res, 200, installScript(base), 'text/x-shellscript');
      if (req.method === 'GET' && url.pathname === '/standin/tailscale.mjs') return send(res, 200, readFileSync(standinPath, 'utf8'), 'text/javascript');
      if (req.method === 'GET' && url.pathname === '/machine/nodes') {
        return send(res, 200, {
          nodes: loadNodes()
            .nodes.filter((n) => !n.gone)
            .map(pub),
        });
      }
      if (req.method !== 'POST') return send(res, 404, { error: 'not found' });
      const body = await readBody(req);
      const db = loadNodes();
      // The auth key of a register or reauth: its record, or why it is refused.
      const authKey = (): { kf: string; rec: KeyRecord; key: string } | { error: string } => {
        const key = String(body.authKey ?? '');
        const kf = /^tskey-[a-zA-Z0-9-]+$/.test(key) ? keyFile(stateDir, key) : '';
        if (!kf || !existsSync(kf)) return { error: 'invalid key: API key does not exist' };
        const rec = JSON.parse(readFileSync(kf, 'utf8')) as KeyRecord;
        if (rec.revoked) return { error: 'invalid key: API key has been revoked' };
        if (Date.parse(rec.expiresAt) <= Date.now()) return { error: 'invalid key: API key has expired' };
        if (rec.used && !rec.reusable) return { error: 'invalid key: API key already used' };
        return { kf, rec, key };
      };
      if (url.pathname === '/machine/reauth') {
        const node = db.nodes.find((x) => x.nodeId === body.nodeId && !x.gone);
        if (!node) return send(res, 404, { error: 'node not found (logged out or deleted)' });
        const k = authKey();
        if ('error' in k) return send(res, 401, { error: k.error });
        node.tags = k.rec.tags?.length ? k.rec.tags : Array.isArray(body.tags) ? body.tags.map(String) : node.tags;
        if (typeof body.hostname === 'string' && body.hostname) node.hostname = body.hostname;
        if (node.keyExpiry) node.keyExpiry = nodeKeyExpiry(Date.now()); // a new node key: expiry on stays on, renewed
        node.key = k.key.slice(0, 18);
        node.online = true;
        k.rec.used = true;
        k.rec.usedBy = node.nodeId;
        writeJson(k.kf, k.rec);
        writeJson(nodesPath, db);
        return send(res, 200, pub(node));
      }
      if (url.pathname === '/machine/register') {
        const k = authKey();
        if ('error' in k) return send(res, 401, { error: k.error });
        const { kf, rec, key } = k;
        const hostname = String(body.hostname || 'node');
        const tags = rec.tags?.length ? rec.tags : Array.isArray(body.tags) ? body.tags.map(String) : [];
        let n = db.ipByHostname[hostname];
        if (n === undefined) {
          n = db.next++;
          db.ipByHostname[hostname] = n;
        }
        const ip = `100.64.${Math.floor(n / 256)}.${n % 256}`;
        // Another live node with the same address (same hostname) is replaced, as a re-registration would.
        for (const o of db.nodes)
          if (o.ip === ip && !o.gone) {
            o.gone = true;
            o.online = false;
          }
        const node: NodeRecord = {
          nodeId: 'n' + randomBytes(6).toString('hex'),
          hostname,
          ip,
          tags,
          online: true,
          gone: false,
          key: key.slice(0, 18),
          ...(tags.length ? {} : { keyExpiry: nodeKeyExpiry(Date.now()) }), // tagged: key expiry disabled
        };
        db.nodes.push(node);
        rec.used = true;
        rec.usedBy = node.nodeId;
        writeJson(kf, rec);
        writeJson(nodesPath, db);
        return send(res, 200, pub(node));
      }
      const node = db.nodes.find((x) => x.nodeId === body.nodeId && !x.gone);
      if (!node) return send(res, 404, { error: 'node not found (logged out or deleted)' });
      if (url.pathname === '/machine/update') {
        if (typeof body.online === 'boolean') node.online = body.online;
        if (Array.isArray(body.tags)) node.tags = body.tags.map(String);
        if (typeof body.hostname === 'string' && body.hostname) node.hostname = body.hostname;
        writeJson(nodesPath, db);
        return send(res, 200, pub(node));
      }
      if (url.pathname === '/machine/logout') {
        node.gone = true;
        node.online = false;
        writeJson(nodesPath, db);
        return send(res, 200, pub(node));
      }
      return send(res, 404, { error: 'not found' });
    } catch (e) {
      return send(res, 500, { error: String(e) });
    }
  };
  const server = createServer(handle);
  server.listen(port, host, () => console.log(`lab control server (tailscale test double) on ${base}`));
  if (httpsPortStr) {
    const tls = join(stateDir, 'control', 'tls');
    const secure = createHttpsServer({ key: readFileSync(join(tls, 'server.key')), cert: readFileSync(join(tls, 'server.crt')) }, handle);
    secure.listen(Number(httpsPortStr), host, () => console.log(`lab control server also on https://${host}:${httpsPortStr} (lab CA)`));
  }
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// `node --test dist/test` executes every .js file under dist/test: do nothing when loaded by the test runner.
if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
