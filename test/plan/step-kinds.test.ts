// The step-kind table (src/plan/step-kinds.ts): every machine kind's script exists, and a machine's steps run in the
// table's order whatever order the planner built them in.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { chain, makeStep, unknownStep } from '../../src/plan/step.js';
import { type RunKind, STEP_KINDS } from '../../src/plan/step-kinds.js';
import { ROOT } from '../helpers.js';

test('step kinds: each machine kind names a script in templates/, each tailnet kind none', () => {
  for (const [kind, row] of Object.entries(STEP_KINDS) as [RunKind, { template?: string; title: string }][]) {
    const tailnet = row.title.startsWith('tailnet: ');
    if (tailnet) assert.equal(row.template, undefined, kind);
    else assert.ok(row.template && existsSync(join(ROOT, 'templates', `${row.template}.sh`)), `${kind}: templates/${row.template}.sh`);
  }
});

test("step kinds: chain() puts a machine's steps in the table's order and makes each need the one before", () => {
  const files = makeStep('write-peer-files', 'm1', { op: 'add', summary: 'files', input: { peers: [] } });
  const restart = makeStep('restart', 'm1', { op: 'change', summary: 'restart', input: { serviceManager: 'supervisor', port: 1, listen: 'tailnet' } });
  const join_ = makeStep('join', 'm1', {
    op: 'add',
    summary: 'join',
    input: { hostname: 'm1', tags: [], forceReauth: false, rekey: false, key: 'provided' },
  });
  const config = unknownStep('m1', 'gateway-config', 'patch', 'not known');
  const steps = chain([files, restart, config, join_]);
  assert.deepEqual(
    steps.map((s) => s.id),
    ['m1/join', 'm1/unknown:gateway-config', 'm1/restart', 'm1/write-peer-files'],
  );
  assert.equal(join_.resource, 'tailnet-node', "a step's resource is its kind's");
  assert.deepEqual(steps[2]!.needs, ['m1/unknown:gateway-config']);
  assert.deepEqual(steps[3]!.needs, ['m1/restart']);
});
