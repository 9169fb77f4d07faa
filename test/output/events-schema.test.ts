// schemas/events.schema.json: generated from src/output/events-schema.ts, and strict where it says it is.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventsSchemaText } from '../../src/output/events-schema.js';
import { jsonLines, ROOT } from '../helpers.js';

const lines = (...objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
const time = '2025-01-02T03:04:05.678Z';
const rejects = (what: string, ...objects: unknown[]) => assert.rejects(jsonLines(lines(...objects)), /does not match schemas\/events\.schema\.json/, what);

test('the committed schemas/events.schema.json is what src/output/events-schema.ts generates (run `npm run schema`)', () => {
  assert.equal(readFileSync(join(ROOT, 'schemas/events.schema.json'), 'utf8'), eventsSchemaText(), 'out of date: run `npm run schema` and commit the file');
});

test('events and documents are closed: a field the schema does not name is refused', async () => {
  const step = { time, event: 'step', machine: 'm1', step: 'join the tailnet', status: 'failed', error: 'key expired' };
  assert.equal((await jsonLines(lines(step))).length, 1);
  await rejects('an unknown field', { ...step, token: 'x' });
  await rejects('an unknown status', { ...step, status: 'maybe' });
  await rejects('no time', { ...step, time: undefined });
  await rejects('a time that is not one', { ...step, time: 'yesterday' });
  await rejects('an unknown event', { time, event: 'progress' });
  await rejects('a result without its exit code', { time, event: 'result', ok: true });
  await rejects('a verify document with a stray field', { format: 'peer-provision/verify@1', stack: 's', ok: true, checks: [], extra: 1 });
  await rejects('a check that is not one of the four', { time, event: 'check', from: 'a', to: 'b', check: 'ping', ok: true, detail: '' });
});

test('the plan is described strictly: a step carries its id, kind, needs and input; an unknown field is refused', async () => {
  const step = {
    id: 'm1/join',
    kind: 'join',
    machine: 'm1',
    needs: [],
    op: 'add',
    resource: 'tailnet-node',
    summary: 'join',
    input: { hostname: 'm1', tags: [], forceReauth: false, rekey: false, key: 'minted' },
  };
  const plan = {
    format: 'peer-provision/plan@2',
    command: 'up',
    stack: 's',
    file: 'peer.yaml',
    tailnet: { provider: 'provided', actions: [], notes: [] },
    machines: [{ machine: 'm1', target: 'local', observed: 'observed', actions: [step] }],
    blockers: [],
    summary: { add: 1, change: 0, destroy: 0, unknown: 0 },
    basis: { specDigest: 'd', machines: {} },
  };
  assert.equal((await jsonLines(lines(plan, { time, event: 'plan', plan }))).length, 2);
  await rejects('a plan without machines', { ...plan, machines: undefined });
  await rejects('a plan with a stray field', { ...plan, steps: [] });
  await rejects('a step without its id', { ...plan, machines: [{ ...plan.machines[0], actions: [{ ...step, id: undefined }] }] });
  await rejects('a step without its op', { ...plan, machines: [{ ...plan.machines[0], actions: [{ ...step, op: undefined }] }] });
});

test('a line that is not JSON, or stdout cut off mid-line, fails', async () => {
  await assert.rejects(jsonLines('{"format":\n'), /line 1 is not JSON/);
  await assert.rejects(jsonLines('{}'), /ends with a complete line/);
});
