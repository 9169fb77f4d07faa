// examples/ci/github-actions.yml, read as GitHub reads it: secrets are scoped to jobs (issue 19 item 12: set for the
// whole workflow, the pull-request plan, which runs the PR's own peer.yaml, got the deploy key, the OAuth secret, the
// state passphrase and the cloud keys).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { installsFromRegistry, npmFreeEnv, ROOT, tempDir } from '../helpers.js';

type Step = { name?: string; run?: string; uses?: string };
type Job = { environment?: string; env?: Record<string, string>; if?: string; steps: Step[] };
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

// issue 20: every job ran `npm install -g peer-provision@0.1.0`, which the registry answers E404
test('no job installs peer-provision from the npm registry (it is not there): each installs it before the script runs', () => {
  for (const [name, job] of Object.entries(workflow.jobs)) {
    const runs = job.steps.map((s) => s.run ?? '');
    assert.deepEqual(runs.filter(installsFromRegistry), [], `${name} installs a registry version`);
    const script = runs.findIndex((r) => r.includes('ci/peer-provision-ci.sh'));
    const install = runs.findIndex((r) => /npm link|npm install -g \.\//.test(r));
    assert.ok(install >= 0 && install < script, `${name}: peer-provision is installed before the script runs`);
  }
  assert.ok(installsFromRegistry('npm install -g "peer-provision@$PEER_PROVISION_VERSION"'), 'the check sees the old step');
});

test("the workflow's install step, run as a runner would against this repository, puts a working peer-provision on PATH", {
  skip: existsSync(join(ROOT, '.git')) ? false : 'not a git checkout',
}, () => {
  const step = workflow.jobs.up!.steps.find((s) => s.run?.includes('npm link'))!;
  const dir = tempDir('pp-ci-install-');
  // what the workflow clones: this repository's HEAD (committed work), as a branch of a repository of its own
  const repo = join(dir, 'peer-provision.git');
  execFileSync('git', ['init', '--quiet', '--bare', repo]);
  execFileSync('git', ['-C', repo, 'fetch', '--quiet', ROOT, 'HEAD:refs/heads/under-test']);
  const prefix = join(dir, 'prefix'); // npm link's global folder, as setup-node's is on a runner
  const env = {
    ...npmFreeEnv(),
    PEER_PROVISION_REPO: `file://${repo}`,
    PEER_PROVISION_REF: 'under-test',
    RUNNER_TEMP: dir,
    NPM_CONFIG_PREFIX: prefix,
    NPM_CONFIG_PREFER_OFFLINE: 'true', // the dependencies from npm's cache where `npm ci` left them
  };
  const r = spawnSync('bash', ['-e', '-c', step.run!], { env, cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const help = spawnSync(join(prefix, 'bin/peer-provision'), ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: peer-provision /);
});
