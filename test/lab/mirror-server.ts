/**
 * The lab's install mirror: serves the lab's Tailscale installer, as a site's mirror of Tailscale's install script
 * would (peer-provision's `installUrl`). Runs in the lab's hub network namespace, on the hub's address only, over
 * http and over https with a certificate of the lab's own CA (peer-provision takes https install URLs only).
 *
 *   GET /health       {"ok":true}
 *   GET /install.sh   installs the REAL tailscale and tailscaled (tailscale-installer.ts) on the calling machine,
 *                     pointed at the lab's headscale by device policy
 *   GET /install.sh?policy=none   the same without device policy: Tailscale's own control server is the default,
 *                     and only `tailscale up --login-server` (peer.yaml's tailnet.controlUrl) reaches headscale
 *
 * Usage: node mirror-server.js <stateDir> <listenHost> <port> <httpsPort> <controlUrl>
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installScript } from './tailscale-installer.js';

function main(): void {
  const [stateDir, host, port, httpsPort, controlUrl] = process.argv.slice(2);
  if (!stateDir || !host || !port || !httpsPort || !controlUrl) {
    console.error('usage: mirror-server.js STATE HOST PORT HTTPS_PORT CONTROL_URL');
    process.exit(2);
  }
  const script = installScript(controlUrl);
  const withoutPolicy = installScript(undefined);
  const send = (res: ServerResponse, code: number, body: string, type: string) => {
    res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/health' || path === '/')) return send(res, 200, '{"ok":true}\n', 'application/json');
    if (req.method === 'GET' && path === '/install.sh')
      return send(res, 200, url.searchParams.get('policy') === 'none' ? withoutPolicy : script, 'text/x-shellscript');
    return send(res, 404, '{"error":"not found"}\n', 'application/json');
  };
  const server = createServer(handle);
  server.listen(Number(port), host, () => console.log(`lab install mirror on http://${host}:${port}`));
  const tls = join(stateDir, 'control', 'tls');
  const secure = createHttpsServer({ key: readFileSync(join(tls, 'server.key')), cert: readFileSync(join(tls, 'server.crt')) }, handle);
  secure.listen(Number(httpsPort), host, () => console.log(`lab install mirror on https://${host}:${httpsPort} (lab CA)`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// `node --test dist/test` executes every .js file under dist/test: do nothing when loaded by the test runner.
if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
