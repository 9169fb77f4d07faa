// examples/ci/github-actions.yml, read as GitHub reads it: secrets are scoped to jobs (issue 19 item 12: set for the
// whole workflow, the pull-request plan, which runs the PR's own peer.yaml, got the deploy key, the OAuth secret, the
// state passphrase and the cloud keys).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { ROOT } from '../helpers.js';

type Job = { environment?: string; env?: Record<string, string>; if?: string };
const workflow = YAML.parse(readFileSync(join(ROOT, 'examples/ci/github-actions.yml'), 'utf8'), { merge: true }) as {
  env: Record<string, string>;
  jobs: Record<string, Job>;
};
const secrets = (env: Record<string, string> = {}) => Object.entries(env).filter(([, v]) => String(v).includes('secrets.'));

test('no secret is set for the whole workflow: each job names its own', () => {
  assert.deepEqual(secrets(workflow.env), []);
});

test('the pull-request plan waits for a reviewer and gets no write credential: no state passphrase, read-only OAuth and state keys', () => {
  const plan = workflow.jobs.plan!;
  assert.match(plan.if ?? '', /pull_request/);
  assert.equal(plan.environment, 'plan-review');
  const names = Object.fromEntries(secrets(plan.env));
  assert.equal(names.PULUMI_CONFIG_PASSPHRASE, undefined);
  assert.match(names.TS_OAUTH_CLIENT_SECRET ?? '', /READONLY/);
  assert.match(names.AWS_SECRET_ACCESS_KEY ?? '', /READONLY/);
});

test('the jobs that change machines run in the production environment with the full set', () => {
  for (const name of ['up', 'down']) {
    const job = workflow.jobs[name]!;
    assert.equal(job.environment, 'production', name);
    assert.ok(
      secrets(job.env).some(([k]) => k === 'PULUMI_CONFIG_PASSPHRASE'),
      name,
    );
  }
});
