// A tiny fake of the Tailscale API on 127.0.0.1 (loopback only), recording every request.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  auth?: string;
  accept?: string;
  body: string;
}

export interface FakeApi {
  baseUrl: string;
  requests: Recorded[];
  devices: { id: string; nodeId: string; hostname: string; tags?: string[] }[];
  policy: string;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let b = '';
    req.on('data', (c) => (b += c));
    req.on('end', () => resolve(b));
  });

export async function startFakeApi(opts: { clientId: string; clientSecret: string; token: string; apiKey?: string }): Promise<FakeApi> {
  const api: Omit<FakeApi, 'baseUrl' | 'close'> = { requests: [], devices: [], policy: '{}' };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = req.url ?? '';
    api.requests.push({ method: req.method ?? '', path, auth: req.headers.authorization, accept: req.headers.accept, body });
    const json = (status: number, v: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (req.method === 'POST' && path === '/api/v2/oauth/token') {
      const f = new URLSearchParams(body);
      if (f.get('client_id') === opts.clientId && f.get('client_secret') === opts.clientSecret)
        return json(200, { access_token: opts.token, token_type: 'Bearer', expires_in: 3600 });
      return json(401, { message: 'invalid client' });
    }
    const ok = req.headers.authorization === `Bearer ${opts.token}` || (opts.apiKey && req.headers.authorization === `Bearer ${opts.apiKey}`);
    if (!ok) return json(401, { message: 'API token invalid' });
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && (m = /^\/api\/v2\/tailnet\/([^/]+)\/devices$/.exec(path))) return json(200, { devices: api.devices });
    if (req.method === 'GET' && /^\/api\/v2\/tailnet\/[^/]+\/acl$/.test(path)) {
      res.writeHead(200, { 'content-type': req.headers.accept === 'application/hujson' ? 'application/hujson' : 'application/json' });
      return res.end(api.policy);
    }
    if (req.method === 'DELETE' && (m = /^\/api\/v2\/device\/([^/]+)$/.exec(path))) {
      const id = decodeURIComponent(m[1]!);
      const i = api.devices.findIndex((d) => d.id === id);
      if (i < 0) return json(404, { message: 'not found' });
      api.devices.splice(i, 1);
      res.writeHead(200);
      return res.end();
    }
    json(404, { message: 'no such route' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections(); // keep-alive sockets of fetch would hold close() for seconds
    }),
  }) as FakeApi;
}
