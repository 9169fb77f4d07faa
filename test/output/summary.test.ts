import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSummary } from '../../src/output/summary.js';

test('the summary table: machine, tailnet IP, gateway URL, verified (checks made against it)', () => {
  const ok = (from: string, to: string) => ({ from, to, check: 'agent-card' as const, ok: true, detail: 'ok' });
  const text = renderSummary(
    [
      { machine: 'alpha', ip: '100.64.0.1', port: 18789 },
      { machine: 'beta', ip: '100.64.0.2', port: 18800 },
      { machine: 'gamma', port: 18789, skipped: 'unreachable' },
    ],
    [ok('beta', 'alpha'), ok('alpha', 'beta'), { ...ok('gamma', 'beta'), ok: false }],
  );
  assert.deepEqual(text.split('\n'), [
    'MACHINE  TAILNET IP  GATEWAY URL              VERIFIED',
    'alpha    100.64.0.1  http://100.64.0.1:18789  yes (1 check)',
    'beta     100.64.0.2  http://100.64.0.2:18800  no: 1 of 2 checks failed',
    'gamma    -           -                        no: unreachable',
    '',
  ]);
});
