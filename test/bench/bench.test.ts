/**
 * Smoke test of the benchmark (test/bench/bench.ts): it is not run in CI as a benchmark, but it must keep working.
 * Runs `bench.js --machines 2 --iterations 1 --systemd 0 --local-runs 3` (one fresh up, converged up, plan, down, down again on a
 * 2-machine lab, ~2 min plus the lab's start) and checks that the markdown table and the JSON have every row, with
 * figures. The systemd rows come from the same measuring code on a lab of that kind (`measureLab`); the smoke run
 * leaves them out, as its 3 minutes are CI's (the systemd machines themselves are tested in test/e2e/systemd.test.ts).
 * Skipped, with the reason, when the lab cannot run here (like test/lab/lab.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROOT, tempDir } from '../helpers.js';
import { labStatus } from '../lab/lab.js';
import { type CommandRow, commandRowIds, parseOptions, systemdRowIds, type TimingRow, timingRowIds } from './bench.js';

const BENCH = fileURLToPath(new URL('./bench.js', import.meta.url));
const status = labStatus(['supervisor']);
const skip: string | false = status.ok ? false : `lab cannot run: ${status.reason}`;

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

describe('benchmark', () => {
  test('arguments: defaults, lists, and refusals', () => {
    assert.deepEqual(parseOptions([]).machines, [2, 4]);
    assert.equal(parseOptions([]).iterations, 3);
    assert.equal(parseOptions([]).systemd, 2);
    assert.equal(parseOptions(['--systemd', '0']).systemd, 0);
    assert.throws(() => parseOptions(['--systemd', '1']), /--systemd/);
    const o = parseOptions(['--machines', '2', '--iterations', '1', '--out', 'x.json']);
    assert.deepEqual([o.machines, o.iterations, o.localRuns], [[2], 1, 10]);
    assert.ok(o.out.endsWith('x.json'));
    assert.throws(() => parseOptions(['--machines', '1']), /--machines/);
    assert.throws(() => parseOptions(['--iterations', '0']), /--iterations/);
    assert.throws(() => parseOptions(['--local-runs', 'x']), /--local-runs/);
    assert.throws(() => parseOptions(['--bogus']));
  });

  // may first wait for another process's lab (one lab per host), like the lab tests
  test('bench on 2 machines, 1 iteration, no systemd machines: every row in the table and the JSON', { skip, timeout: 30 * 60_000 }, async () => {
    const dir = tempDir('pp-bench-test-');
    try {
      const out = join(dir, 'results.json');
      const r = await runBench(['--machines', '2', '--iterations', '1', '--systemd', '0', '--local-runs', '3', '--out', out]);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      console.log(r.stdout.replace(/^/gm, '# '));

      const doc = JSON.parse(readFileSync(out, 'utf8')) as { timing: TimingRow[]; commands: CommandRow[]; markdown: string };
      assert.equal(doc.markdown, r.stdout, 'the JSON carries the printed table');
      assert.deepEqual(
        doc.timing.map((row) => row.id),
        [...timingRowIds([2]), ...systemdRowIds(0)],
      );
      assert.deepEqual(
        doc.commands.map((row) => row.id),
        commandRowIds([2]),
      );

      const tableRows = r.stdout.split('\n').filter((l) => /^\| \d/.test(l));
      assert.equal(tableRows.length, doc.timing.length + doc.commands.length, 'one table line per row');
      for (const row of doc.timing) {
        assert.ok(
          tableRows.some((l) => l.startsWith(`| ${row.machines} | ${row.measure} |`)),
          `table row ${row.id}`,
        );
        if (row.value === undefined) assert.ok(Number.isFinite(row.medianMs) && row.medianMs! > 0, `${row.id} has a time`);
        if (row.target) assert.equal(typeof row.ok, 'boolean', `${row.id} is judged against its target`);
      }
      for (const row of doc.commands) {
        assert.ok(
          tableRows.some((l) => l.startsWith(`| ${row.machines} | ${row.command} |`)),
          `table row ${row.id}`,
        );
        assert.ok((row.peakRssMiB ?? 0) > 10, `${row.id} has a peak RSS`);
      }
      // each lab command opened at least one ssh connection per machine, and the tool's count matches sshd's log
      for (const row of doc.commands.filter((c) => c.sshdConnections !== undefined)) {
        assert.ok(row.sshdConnections! >= 1, `${row.id}: sshd saw a connection`);
        if (row.sshConnections !== undefined) assert.equal(row.sshConnections, row.sshdConnections, `${row.id}: tool and sshd agree`);
      }
      const targets = ['2:help', '2:validate', '2:up-fresh', '2:up-converged', '2:up-converged-restarts-writes'];
      for (const id of targets) assert.ok(r.stdout.includes(doc.timing.find((t) => t.id === id)!.target!), `${id} target shown`);
      assert.match(r.stdout, /[✓✗]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
