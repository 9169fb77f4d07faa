// A stand-in OpenClaw for templates that run under test/fake-ssh.ts's steps: 'run': `openclaw` on PATH is a link to
// its package's openclaw.mjs (as npm installs it), whose plugin-sdk/gateway-runtime.js (OpenClaw's gateway client,
// what `openclaw gateway call` runs) records each call in `calls.jsonl` (method, params, options, its process's argv
// and OPENCLAW_CONFIG_PATH) and answers as `answer` says. `node` is the real one behind a shim that logs its argv
// to `node.argv`; pgrep and systemctl find no gateway (so nothing running on this host is ever looked at).
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './helpers.js';

export type GatewayAnswer =
  | { messageId: string }
  /** The gateway refuses: thrown as OpenClaw's client throws a request error (gatewayCode, message). */
  | { error: string; code?: string }
  /** Refused this many times with a StateDatabaseCoordinatorContentionError first, then accepted. */
  | { contention: number; messageId: string };

export interface FakeOpenClaw {
  /** For fakeSshMachines' runPath. */
  path: string;
  dir: string;
}

export function fakeOpenClaw(answer: GatewayAnswer): FakeOpenClaw {
  const dir = tempDir('pp-fake-openclaw-');
  const pkg = join(dir, 'lib/node_modules/openclaw');
  const bin = join(dir, 'bin');
  mkdirSync(join(pkg, 'dist/plugin-sdk'), { recursive: true });
  mkdirSync(bin);
  writeFileSync(join(pkg, 'package.json'), '{\n  "name": "openclaw",\n  "version": "2026.9.6"\n}\n');
  writeFileSync(join(pkg, 'openclaw.mjs'), '#!/usr/bin/env node\nconsole.error("stand-in openclaw: not for this test");\nprocess.exit(1);\n', { mode: 0o755 });
  symlinkSync(join(pkg, 'openclaw.mjs'), join(bin, 'openclaw'));
  writeFileSync(join(dir, 'answer.json'), JSON.stringify(answer));
  writeFileSync(
    join(pkg, 'dist/plugin-sdk/gateway-runtime.js'),
    `import { appendFileSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
const dir = ${JSON.stringify(dir)};
export async function callGatewayFromCli(method, opts, params, extra) {
  appendFileSync(dir + '/calls.jsonl', JSON.stringify({ method, opts, params, extra, argv: process.argv, config: process.env.OPENCLAW_CONFIG_PATH ?? null }) + '\\n');
  const answer = JSON.parse(readFileSync(dir + '/answer.json', 'utf8'));
  if (answer.contention) {
    const seen = existsSync(dir + '/refused') ? Number(readFileSync(dir + '/refused', 'utf8')) : 0;
    if (seen < answer.contention) {
      writeFileSync(dir + '/refused', String(seen + 1));
      throw Object.assign(new Error('StateDatabaseCoordinatorContentionError: another OpenClaw process owns state-lifecycle'), { gatewayCode: 'UNAVAILABLE' });
    }
  }
  if (answer.error) throw Object.assign(new Error(answer.error), answer.code ? { gatewayCode: answer.code } : {});
  return { runId: 'pp-run', messageId: answer.messageId, channel: 'a2a' };
}
`,
  );
  const shim = (name: string, text: string) => {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  };
  shim('node', `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/node.argv'\nexec '${process.execPath}' "$@"\n`);
  shim('pgrep', '#!/bin/sh\nexit 1\n');
  shim('systemctl', '#!/bin/sh\nexit 1\n');
  return { path: `${bin}:${dirname(process.execPath)}`, dir };
}
