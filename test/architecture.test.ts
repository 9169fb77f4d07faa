// The import rules of .dependency-cruiser.cjs bite: on a small tree shaped like src/ with one backward import
// per rule, each is reported as an error (and the allowed imports beside them are not); on the real src/, the
// only violations are the listed known ones, and each listed one still exists (so the list shrinks as they are fixed).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, tempDir } from './helpers.js';

const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const { KNOWN_VIOLATIONS } = createRequire(import.meta.url)(CONFIG) as { KNOWN_VIOLATIONS: { rule: string; from: string; to: string }[] };

interface Violation {
  rule: string;
  severity: string;
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the project's configuration on `src` in `cwd`, as `npm run deps` does: exit code and output. */
async function depcruise(cwd: string, outputType: 'json' | 'err-long'): Promise<{ code: number; stdout: string }> {
  const run = promisify(execFile)(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, '--output-type', outputType], { cwd, maxBuffer: 64 << 20 });
  return run.then(
    ({ stdout }) => ({ stdout, code: 0 }),
    (e: { stdout?: string; code?: number; stderr?: string }) => {
      if (!e.stdout) throw new Error(`dependency-cruiser failed: ${e.stderr}`);
      return { stdout: e.stdout, code: e.code ?? 1 };
    },
  );
}

/** The violations dependency-cruiser finds in `cwd`'s src/. */
async function violations(cwd: string): Promise<Violation[]> {
  const result = JSON.parse((await depcruise(cwd, 'json')).stdout) as {
    summary: { violations: { rule: { name: string; severity: string }; from: string; to: string }[] };
  };
  // a package resolves through the fixture's node_modules link to this repo's: named from node_modules/ on
  const to = (path: string) => path.replace(/^.*?(?=node_modules\/)/, '');
  return result.summary.violations.map((v) => ({ rule: v.rule.name, severity: v.rule.severity, from: v.from, to: to(v.to) }));
}

const key = (v: Violation) => `${v.severity} ${v.rule}: ${v.from} → ${v.to}`;

type Import = string | { type: string } | { dynamic: string };

/** A tree of TypeScript modules: path → what it imports (a relative path from src/ or test/, or a package). */
function tree(files: Record<string, Import[]>): string {
  const dir = tempDir('pp-arch-');
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'fixture', type: 'module', dependencies: { execa: '*' }, devDependencies: { typescript: '*' } }),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src', 'test'] }),
  );
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const specifier = (from: string, to: string) => {
    if (!/^(src|test)\//.test(to)) return to;
    const up = from
      .split('/')
      .slice(0, -1)
      .map(() => '..');
    return `${up.join('/')}/${to.replace(/\.ts$/, '.js')}`;
  };
  for (const [path, imports] of Object.entries(files)) {
    const lines = imports.map((i, n) => {
      if (typeof i === 'string') return `import * as m${n} from '${specifier(path, i)}';\nexport const u${n} = m${n};`;
      if ('type' in i) return `import type * as t${n} from '${specifier(path, i.type)}';\nexport type T${n} = typeof t${n};`;
      return `export const d${n} = () => import('${specifier(path, i.dynamic)}');`;
    });
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), `${lines.join('\n')}\nexport const here = 1;\n`);
  }
  return dir;
}

describe('import rules (.dependency-cruiser.cjs)', () => {
  it('report each backward import as an error (KNOWN_VIOLATIONS is empty), and allow the imports that follow the flow', async () => {
    const dir = tree({
      // allowed: lazy commands, shared command helpers, leaves, types across layers, the flow's direction
      'src/cli.ts': [{ dynamic: 'src/commands/up/index.ts' }, 'src/program.ts', 'src/errors.ts', 'src/commands/validate/index.ts'],
      'src/program.ts': [],
      'src/errors.ts': [],
      'src/commands/shared.ts': ['src/errors.ts'],
      'src/commands/up/index.ts': ['src/commands/shared.ts', 'src/apply/up.ts', 'src/verify/index.ts', 'src/program.ts', 'src/plan/index.ts'],
      'src/commands/validate/index.ts': ['src/peer-yaml/load.ts'],
      'src/commands/status/index.ts': ['src/commands/shared.ts', 'src/commands/verify/index.ts'],
      'src/commands/verify/index.ts': [],
      'src/model/hash.ts': ['node:crypto'],
      'src/model/bad.ts': ['src/peer-yaml/types.ts'],
      'src/peer-yaml/load.ts': ['node:fs', 'src/model/hash.ts', 'src/errors.ts', 'src/peer-yaml/types.ts'],
      'src/peer-yaml/types.ts': [],
      'src/peer-yaml/secrets.ts': ['src/tailnet/errors.ts'],
      'src/observe/index.ts': ['src/transport/remote.ts', 'src/peer-yaml/types.ts', 'src/plan/index.ts'],
      'src/observe/a.ts': ['src/observe/b.ts'],
      'src/observe/b.ts': ['src/observe/a.ts'],
      'src/plan/index.ts': ['src/peer-yaml/types.ts', 'src/tailnet/policy/merge.ts', { type: 'src/tailnet/devices.ts' }, { type: 'src/transport/remote.ts' }],
      'src/plan/safety.ts': ['node:fs'],
      'src/tailnet/policy/merge.ts': ['src/tailnet/policy/hujson.ts', 'src/tailnet/errors.ts', 'src/tailnet/devices.ts', 'node:child_process'],
      'src/tailnet/policy/hujson.ts': ['src/tailnet/errors.ts'],
      'src/tailnet/errors.ts': ['src/errors.ts'],
      'src/tailnet/devices.ts': ['execa'],
      'src/transport/remote.ts': [],
      'src/transport/trace.ts': ['src/console/io.ts', 'src/output/view.ts', { type: 'src/output/events.ts' }],
      'src/console/io.ts': ['src/model/hash.ts', 'src/errors.ts'],
      'src/console/ask.ts': ['src/plan/index.ts'],
      'src/output/view.ts': ['src/console/io.ts'],
      'src/output/events.ts': [],
      'src/apply/up.ts': ['src/plan/index.ts', 'src/observe/index.ts', 'src/transport/remote.ts'],
      'src/apply/peer-files.ts': [],
      'src/apply/context.ts': ['src/verify/index.ts', 'src/verify/other.ts'],
      'src/apply/steps.ts': ['src/verify/index.ts'],
      'src/verify/index.ts': ['src/apply/peer-files.ts'],
      'src/verify/other.ts': [],
      'src/output/render.ts': ['src/commands/up/index.ts', 'src/cli.ts', 'test/helpers.ts', 'typescript', 'src/output/missing.ts'],
      'test/helpers.ts': [],
    });
    const [found, { code, stdout }] = await Promise.all([violations(dir), depcruise(dir, 'err-long')]);
    const error = (rule: string, from: string, to: string) => `error ${rule}: ${from} → ${to}`;
    const expected = [
      error('no-cycle', 'src/observe/a.ts', 'src/observe/b.ts'),
      error('nothing-imports-cli', 'src/output/render.ts', 'src/cli.ts'),
      error('only-cli-imports-commands', 'src/output/render.ts', 'src/commands/up/index.ts'),
      error('cli-loads-commands-lazily', 'src/cli.ts', 'src/commands/validate/index.ts'),
      error('commands-do-not-import-each-other', 'src/commands/status/index.ts', 'src/commands/verify/index.ts'),
      error('peer-yaml-imports-only-leaves', 'src/peer-yaml/secrets.ts', 'src/tailnet/errors.ts'),
      error('model-is-a-leaf', 'src/model/bad.ts', 'src/peer-yaml/types.ts'),
      error('console-is-a-leaf', 'src/console/ask.ts', 'src/plan/index.ts'),
      error('only-commands-use-output', 'src/transport/trace.ts', 'src/output/view.ts'),
      error('observe-does-not-import-later-stages', 'src/observe/index.ts', 'src/plan/index.ts'),
      error('plan-does-not-import-io-layers', 'src/plan/index.ts', 'src/transport/remote.ts'),
      error('pure-imports-only-pure', 'src/tailnet/policy/merge.ts', 'src/tailnet/devices.ts'),
      error('pure-does-no-io', 'src/plan/safety.ts', 'fs'),
      error('pure-does-no-io', 'src/tailnet/policy/merge.ts', 'child_process'),
      error('verify-does-not-import-apply', 'src/verify/index.ts', 'src/apply/peer-files.ts'),
      error('apply-does-not-import-verify', 'src/apply/context.ts', 'src/verify/index.ts'),
      error('apply-does-not-import-verify', 'src/apply/context.ts', 'src/verify/other.ts'),
      error('apply-does-not-import-verify', 'src/apply/steps.ts', 'src/verify/index.ts'),
      error('src-does-not-import-test', 'src/output/render.ts', 'test/helpers.ts'),
      error('src-does-not-import-dev-dependencies', 'src/output/render.ts', 'node_modules/typescript/lib/typescript.js'),
      error('resolvable', 'src/output/render.ts', '../../src/output/missing.js'),
    ];
    assert.deepEqual([...new Set(found.map(key))].sort(), expected.sort());
    assert.notEqual(code, 0, 'an error fails `npm run deps`');
    // the message says what is wrong and what to do
    assert.match(
      stdout,
      /error verify-does-not-import-apply: src\/verify\/index\.ts → src\/apply\/peer-files\.ts\n\s+verify checks what apply did without depending on it/,
    );
  });

  it('pass on src/ with only the listed known violations, each still present', async () => {
    const [found, { code }] = await Promise.all([violations(ROOT), depcruise(ROOT, 'err-long')]);
    assert.deepEqual(found.filter((v) => v.severity === 'error').map(key), [], 'no import in src/ breaks a rule');
    const listed = KNOWN_VIOLATIONS.map((k) => `${k.rule} (known violation): ${k.from} → ${k.to}`).sort();
    assert.deepEqual(
      found.map((v) => `${v.rule}: ${v.from} → ${v.to}`).sort(),
      listed,
      'a known violation that is fixed is deleted from KNOWN_VIOLATIONS in .dependency-cruiser.cjs',
    );
    assert.equal(code, 0, 'warnings do not fail `npm run deps`');
  });
});
