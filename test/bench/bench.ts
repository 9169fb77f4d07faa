/**
 * `npm run bench`: how fast peer-provision gets N lab machines peered, and what a no-op costs.
 *
 *   npm run bench -- [--machines 2,4] [--systemd 2] [--iterations 3] [--local-runs 10] [--out bench-results.json]
 *
 * First, before any lab runs (the lab's gateways keep the CPUs busy after each start), `node -e 0` (the baseline),
 * `peer-provision --help` and `validate` (of a peer.yaml of the lab's shape per machine count): interleaved,
 * --local-runs times after one untimed warm-up each. Then for each machine count: builds the test lab (test/lab/,
 * needs root and `sudo bash test/lab/prepare.sh`; waits while another process holds it) and runs --iterations times:
 *   - fresh `up` (install, join, patch, restart, peer files, verify), converged `up`, `plan`
 *     (converged), `down` (restores everything), `down` again (nothing to do). Before every fresh `up` after the
 *     first, Tailscale is uninstalled from each machine and its node deleted at headscale (down leaves the tailnet
 *     but keeps the client), so every fresh `up` really installs, and the peer.yaml gets fresh single-use auth keys. Before each
 *     command the bench waits until the machines are quiet (a restarted gateway keeps a CPU busy for seconds).
 * Then (--systemd N, default 2; 0 skips it) a lab of N machines of kind `systemd` (systemd-nspawn, ssh as a sudo user,
 * the gateway a systemd user unit; see test/lab/README.md): fresh `up` and converged `up` each iteration (and a `down`
 * between, not reported), beside the supervisor machines' rows.
 * Every peer-provision run is timed from spawn to exit (wall clock), its peak RSS taken with GNU time
 * (`/usr/bin/time -f %M`; else by polling /proc/PID/status VmHWM), and, for up/down, its --json events read:
 * step timestamps (per machine, the sum of done-minus-start of its steps), the result's restarts/writes and
 * `transport` (ssh connections and remote commands per machine), which is cross-checked with the
 * "Accepted publickey" lines each machine's sshd logged during the run.
 *
 * Prints two markdown tables on stdout (progress on stderr), writes every figure and raw run as JSON to --out,
 * tears the lab down at the end (also on failure and Ctrl-C). Exit 0 even when a target is missed (this is a
 * measurement, not a test); exit 1 when a command failed (the failed run is listed, left out of the figures, and
 * the bench goes on), 2 on bad arguments.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI, ROOT } from '../helpers.js';
import { type Lab, labDown, labHeldByMe, labStatus, type MachineKind } from '../lab/lab.js';
import { releaseLab, useLab } from '../lab/shared.js';

// ---------------------------------------------------------------- what is measured, and the targets
/** The commands run against the lab each iteration, in this order. */
export const LAB_COMMANDS = ['up-fresh', 'up-converged', 'plan', 'down', 'down-noop'] as const;
type LabCommand = (typeof LAB_COMMANDS)[number];
const LOCAL_COMMANDS = ['node', 'help', 'validate'] as const;
type LocalCommand = (typeof LOCAL_COMMANDS)[number];

const LABEL: Record<LabCommand | LocalCommand, string> = {
  node: '`node -e 0` (baseline)',
  help: '`peer-provision --help`',
  validate: '`validate`',
  plan: '`plan` (converged)',
  'up-fresh': 'fresh `up`',
  'up-converged': 'converged `up`',
  down: '`down`',
  'down-noop': '`down` (nothing to do)',
};

export const TARGETS = {
  convergedUpMs: 1000, // on 2 machines
  sshConnectionsPerMachine: 1,
  freshVsSlowestMachine: 1.2,
  fresh4vs2: 1.5,
  helpVsNode: 3,
  validateVsNode: 4,
};

/** Row ids of the timing table for one machine count (and the cross row when 2 and 4 were both run). */
export function timingRowIds(machineCounts: number[]): string[] {
  const ids: string[] = [];
  for (const n of machineCounts) {
    for (const m of [
      'node',
      'help',
      'validate',
      'plan',
      'up-fresh',
      'up-fresh-slowest-machine',
      'up-fresh-observe',
      'up-fresh-steps',
      'up-fresh-verify',
      'up-converged',
      'up-converged-restarts-writes',
      'up-converged-observe',
      'up-converged-verify',
      'up-converged-exit',
      'down',
      'down-noop',
    ])
      ids.push(`${n}:${m}`);
  }
  if (machineCounts.includes(2) && machineCounts.includes(4)) ids.push('4vs2:up-fresh');
  return ids;
}
/** Commands run on the systemd machines each iteration; only the first two are reported. */
const SYSTEMD_COMMANDS = ['up-fresh', 'up-converged', 'down'] as const;
/** Row ids of the systemd machines' rows (none with --systemd 0). */
export function systemdRowIds(n: number): string[] {
  return n ? [`systemd${n}:up-fresh`, `systemd${n}:up-converged`] : [];
}
/** Row ids of the per-command transport/memory table. */
export function commandRowIds(machineCounts: number[]): string[] {
  return machineCounts.flatMap((n) => [...LOCAL_COMMANDS, ...LAB_COMMANDS].map((c) => `${n}:${c}`));
}

// ---------------------------------------------------------------- running a command, measured
interface Exec {
  code: number;
  stdout: string;
  stderr: string;
  wallMs: number;
  startEpochMs: number;
  endEpochMs: number;
  maxRssKiB?: number;
}

const TIME_BIN = '/usr/bin/time';
/** GNU time with -f/-o (peak RSS of the child in KiB)? Checked once, at the first measured command. */
let gnuTimeChecked: boolean | undefined;
function hasGnuTime(): boolean {
  if (gnuTimeChecked !== undefined) return gnuTimeChecked;
  const dir = mkdtempSync(join(tmpdir(), 'pp-bench-'));
  try {
    const r = spawnSync(TIME_BIN, ['-f', '%M', '-o', join(dir, 't'), 'true'], { stdio: 'ignore' });
    gnuTimeChecked = r.status === 0 && /^\d+\s*$/.test(readFileSync(join(dir, 't'), 'utf8'));
  } catch {
    gnuTimeChecked = false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return gnuTimeChecked;
}

let scratch = '';
let execCount = 0;

function exec(cmd: string, args: string[], timeoutMs = 15 * 60_000): Promise<Exec> {
  const gnuTime = hasGnuTime();
  const timeFile = gnuTime ? join(scratch, `time-${++execCount}`) : '';
  const [file, argv] = gnuTime ? [TIME_BIN, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((done) => {
    const startEpochMs = Date.now();
    const t0 = performance.now();
    const child = spawn(file, argv, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwm = 0;
    // without GNU time: VmHWM (peak RSS) of the child, polled until it exits
    const poll = gnuTime
      ? undefined
      : setInterval(() => {
          try {
            const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
            hwm = Math.max(hwm, kb);
          } catch {
            /* gone */
          }
        }, 5);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - t0;
      const endEpochMs = Date.now();
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let maxRssKiB: number | undefined = hwm || undefined;
      if (gnuTime) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the figure on failure
          const m = /(\d+)\s*$/.exec(readFileSync(timeFile, 'utf8'));
          maxRssKiB = m ? Number(m[1]) : undefined;
        } catch {
          /* killed */
        }
      }
      done({ code: code ?? (signal ? 128 : 1), stdout, stderr, wallMs, startEpochMs, endEpochMs, maxRssKiB });
    });
  });
}

const cli = (...args: string[]) => exec(process.execPath, [CLI, ...args]);

// ---------------------------------------------------------------- one measured lab command
interface Transport {
  connections: number;
  commands: number;
}
interface LabRun {
  command: LabCommand;
  iteration: number;
  wallMs: number;
  /** how long the bench waited for the lab's machines to be quiet before this run (see settle) */
  settledMs?: number;
  maxRssMiB?: number;
  /** the tool's own counter (result event), undefined for plan (its JSON has none) */
  transport?: Record<string, Transport>;
  /** "Accepted publickey" lines each machine's sshd logged during the run */
  sshdAccepted: Record<string, number>;
  changed?: boolean;
  restarted?: string[];
  written?: string[];
  /** per machine: sum of done-minus-start of its steps (ms) */
  stepMs?: Record<string, number>;
  steps?: Record<string, string[]>;
  /**
   * spawn -> plan event (node, module load, ssh, observe), plan event -> result event, result event -> exit (ms);
   * when there were steps: first machine step start -> last machine step end, and the span of the verify steps.
   */
  phases?: { toPlanMs: number; planToResultMs: number; resultToExitMs: number; stepsMs?: number; afterStepsMs?: number };
}

type Event = { time: string; event: string; [k: string]: any };
/** The step in up's --json events in which a machine checks its peers (health, token, a message). */
const VERIFY_STEP = 'verify its peers';
const parseEvents = (stdout: string): Event[] =>
  stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Event);

function sshdAccepted(lab: Lab): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of lab.machines) {
    let text = '';
    try {
      text = lab.readFile(m.name, '/var/log/pplab/sshd.log');
    } catch {
      /* not yet */
    }
    counts[m.name] = text.split('\n').filter((l) => l.includes('Accepted publickey')).length;
  }
  return counts;
}

function stepTimes(events: Event[]): { stepMs: Record<string, number>; steps: Record<string, string[]> } {
  const started = new Map<string, number>();
  const stepMs: Record<string, number> = {};
  const steps: Record<string, string[]> = {};
  for (const e of events) {
    if (e.event !== 'step' || e.machine === 'tailnet') continue; // the tailnet's steps run on this host, not a machine
    const key = `${e.machine}\0${e.step}`;
    if (e.status === 'start') started.set(key, Date.parse(e.time));
    else if (started.has(key)) {
      stepMs[e.machine] = (stepMs[e.machine] ?? 0) + Date.parse(e.time) - started.get(key)!;
      (steps[e.machine] ??= []).push(e.step);
    }
  }
  return { stepMs, steps };
}

class CommandFailed extends Error {}

async function labCommand(lab: Lab, file: string, command: LabCommand, iteration: number): Promise<LabRun> {
  const args: Record<LabCommand, string[]> = {
    'up-fresh': ['up', '--yes', '--json', '-f', file],
    'up-converged': ['up', '--yes', '--json', '-f', file],
    plan: ['plan', '--json', '--detailed-exitcode', '-f', file],
    down: ['down', '--yes', '--json', '-f', file],
    'down-noop': ['down', '--yes', '--json', '-f', file],
  };
  const before = sshdAccepted(lab);
  const r = await cli(...args[command]);
  const after = sshdAccepted(lab);
  const problems = (() => {
    try {
      return (parseEvents(r.stdout).find((e) => e.event === 'result')?.problems ?? []) as string[];
    } catch {
      return [];
    }
  })();
  const fail = (why: string) =>
    new CommandFailed(
      `${LABEL[command]} (iteration ${iteration}) ${why}: exit ${r.code}${problems.length ? `: ${problems.join('; ')}` : ''}\n${r.stderr.trim().split('\n').slice(-15).join('\n')}\n${r.stdout.slice(-2000)}`,
    );
  if (r.code !== 0) throw fail('failed');
  const run: LabRun = {
    command,
    iteration,
    wallMs: r.wallMs,
    maxRssMiB: r.maxRssKiB === undefined ? undefined : r.maxRssKiB / 1024,
    sshdAccepted: Object.fromEntries(lab.machines.map((m) => [m.name, after[m.name]! - before[m.name]!])),
  };
  if (command === 'plan') return run;
  const events = parseEvents(r.stdout);
  const result = events.find((e) => e.event === 'result');
  const plan = events.find((e) => e.event === 'plan');
  if (!result || !plan) throw fail('printed no plan or result event');
  const expectChanged = command === 'up-fresh' || command === 'down';
  if (Boolean(result.changed) !== expectChanged) throw fail(`reported changed=${result.changed}, expected ${expectChanged}`);
  run.transport = result.transport;
  run.changed = result.changed;
  run.restarted = result.restarted ?? [];
  run.written = result.written ?? [];
  Object.assign(run, stepTimes(events));
  run.phases = {
    toPlanMs: Date.parse(plan.time) - r.startEpochMs,
    planToResultMs: Date.parse(result.time) - Date.parse(plan.time),
    resultToExitMs: r.endEpochMs - Date.parse(result.time),
  };
  // the machines' own steps, then each machine verifying its peers (a step of its own, concurrent across machines)
  const steps = events.filter((e) => e.event === 'step');
  const stepTimesAt = steps.filter((e) => e.step !== VERIFY_STEP).map((e) => Date.parse(e.time));
  const verifyTimesAt = steps.filter((e) => e.step === VERIFY_STEP).map((e) => Date.parse(e.time));
  if (stepTimesAt.length) run.phases.stepsMs = max(stepTimesAt) - min(stepTimesAt);
  if (verifyTimesAt.length) run.phases.afterStepsMs = max(verifyTimesAt) - min(verifyTimesAt);
  return run;
}

/** CPU time (clock ticks) used so far by every process of the lab's machines. */
function labCpuTicks(lab: Lab): number {
  let ticks = 0;
  for (const m of lab.machines) {
    const pids = spawnSync('ip', ['netns', 'pids', m.ns], { encoding: 'utf8' }).stdout ?? '';
    for (const pid of pids.split('\n').filter(Boolean)) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        ticks += Number(f[11]) + Number(f[12]); // utime, stime
      } catch {
        /* gone */
      }
    }
  }
  return ticks;
}

/**
 * Waits until the lab's machines are quiet: a gateway keeps a CPU busy for several seconds after it starts
 * (workers, session store), which would otherwise be billed to the next command. Quiet = under 15% of one CPU
 * for two 1-second samples in a row; gives up after 90 s. Returns the time waited (ms).
 */
async function settle(lab: Lab): Promise<number> {
  const t0 = Date.now();
  const hz = 100; // USER_HZ on Linux
  let quiet = 0;
  let last = labCpuTicks(lab);
  while (quiet < 2 && Date.now() - t0 < 90_000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = labCpuTicks(lab);
    quiet = (now - last) / hz < 0.15 ? quiet + 1 : 0;
    last = now;
  }
  return Date.now() - t0;
}

/** Makes every machine one that never had Tailscale: down leaves the tailnet but keeps the client installed. */
async function uninstallTailscale(lab: Lab): Promise<void> {
  await Promise.all(lab.machines.map((m) => lab.removeTailscale(m.name)));
  lab.deleteNodes();
}

// ---------------------------------------------------------------- statistics and tables
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const min = (xs: number[]) => (xs.length ? Math.min(...xs) : NaN);
const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
const ms = (x: number) => (Number.isNaN(x) ? '—' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
const ratio = (x: number) => `${x.toFixed(2)} ×`;
const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? '✓' : '✗');

export interface TimingRow {
  id: string;
  machines: string;
  measure: string;
  minMs?: number;
  medianMs?: number;
  /** shown when the row is not a time */
  value?: string;
  target?: string;
  actual?: string;
  ratio?: number;
  ok?: boolean;
}
export interface CommandRow {
  id: string;
  machines: number;
  command: string;
  peakRssMiB?: number;
  /** max over machines and iterations; the tool's counter (result event) and sshd's log */
  sshConnections?: number;
  sshdConnections?: number;
  remoteCommands?: number;
  ok?: boolean;
}

interface Measured {
  machines: number;
  local: Record<LocalCommand, { wallMs: number[]; maxRssMiB: number[] }>;
  lab: LabRun[];
}

function timingRows(all: Measured[], systemd?: { machines: number; lab: LabRun[] }): TimingRow[] {
  const rows: TimingRow[] = [];
  for (const m of all) {
    const n = String(m.machines);
    const runs = (c: LabCommand) => m.lab.filter((r) => r.command === c);
    const wall = (c: LabCommand) => runs(c).map((r) => r.wallMs);
    const row = (id: string, measure: string, xs: number[], extra: Partial<TimingRow> = {}): TimingRow => ({
      id: `${n}:${id}`,
      machines: n,
      measure,
      minMs: min(xs),
      medianMs: median(xs),
      ...extra,
    });
    const nodeMed = median(m.local.node.wallMs);
    const vsNode = (c: 'help' | 'validate', limit: number) => {
      const x = median(m.local[c].wallMs) / nodeMed;
      return { target: `≤ ${limit} × node -e 0`, actual: ratio(x), ratio: x, ok: x <= limit };
    };
    rows.push(row('node', LABEL.node, m.local.node.wallMs));
    rows.push(row('help', LABEL.help, m.local.help.wallMs, vsNode('help', TARGETS.helpVsNode)));
    rows.push(row('validate', LABEL.validate, m.local.validate.wallMs, vsNode('validate', TARGETS.validateVsNode)));
    rows.push(row('plan', LABEL.plan, wall('plan')));

    const slowest = runs('up-fresh').map((r) => max(Object.values(r.stepMs ?? {})));
    const fresh = median(wall('up-fresh')) / median(slowest);
    rows.push(
      row('up-fresh', LABEL['up-fresh'], wall('up-fresh'), {
        target: `≤ ${TARGETS.freshVsSlowestMachine} × slowest machine`,
        actual: ratio(fresh),
        ratio: fresh,
        ok: fresh <= TARGETS.freshVsSlowestMachine,
      }),
    );
    rows.push(row('up-fresh-slowest-machine', "fresh `up`: slowest machine's own steps", slowest));
    const freshPhase = (f: (p: NonNullable<LabRun['phases']>) => number | undefined): number[] => runs('up-fresh').map((r) => f(r.phases!) ?? NaN);
    rows.push(
      row(
        'up-fresh-observe',
        'fresh `up`: spawn → plan event (node, load, ssh, observe)',
        freshPhase((p) => p.toPlanMs),
      ),
    );
    rows.push(
      row(
        'up-fresh-steps',
        'fresh `up`: first step start → last step end (all machines, before verify)',
        freshPhase((p) => p.stepsMs),
      ),
    );
    rows.push(
      row(
        'up-fresh-verify',
        'fresh `up`: verify, every machine checking its peers (with a message)',
        freshPhase((p) => p.afterStepsMs),
      ),
    );

    const conv = wall('up-converged');
    const convMed = median(conv);
    rows.push(
      row(
        'up-converged',
        LABEL['up-converged'],
        conv,
        m.machines === 2
          ? { target: `≤ ${TARGETS.convergedUpMs / 1000} s`, actual: ms(convMed), ratio: convMed / TARGETS.convergedUpMs, ok: convMed <= TARGETS.convergedUpMs }
          : {},
      ),
    );
    const restarts = runs('up-converged').map((r) => r.restarted?.length ?? 0);
    const writes = runs('up-converged').map((r) => r.written?.length ?? 0);
    rows.push({
      id: `${n}:up-converged-restarts-writes`,
      machines: n,
      measure: 'converged `up`: restarts / writes (max)',
      value: `${max(restarts)} / ${max(writes)}`,
      target: '0 / 0',
      actual: `${max(restarts)} / ${max(writes)}`,
      ok: max(restarts) === 0 && max(writes) === 0,
    });
    const phase = (k: 'toPlanMs' | 'planToResultMs' | 'resultToExitMs') => runs('up-converged').map((r) => r.phases![k]);
    rows.push(row('up-converged-observe', 'converged `up`: spawn → plan event (node, load, ssh, observe)', phase('toPlanMs')));
    rows.push(row('up-converged-verify', 'converged `up`: plan → result event (verify checks)', phase('planToResultMs')));
    rows.push(row('up-converged-exit', 'converged `up`: result event → exit (close ssh)', phase('resultToExitMs')));
    rows.push(row('down', LABEL.down, wall('down')));
    rows.push(row('down-noop', LABEL['down-noop'], wall('down-noop')));
  }
  if (systemd) {
    const wall = (c: LabCommand) => systemd.lab.filter((r) => r.command === c).map((r) => r.wallMs);
    for (const c of ['up-fresh', 'up-converged'] as const) {
      rows.push({
        id: `systemd${systemd.machines}:${c}`,
        machines: `${systemd.machines} systemd`,
        measure: `${LABEL[c]} (systemd user unit, ssh as a sudo user)`,
        minMs: min(wall(c)),
        medianMs: median(wall(c)),
      });
    }
  }
  const two = all.find((m) => m.machines === 2);
  const four = all.find((m) => m.machines === 4);
  if (two && four) {
    const w = (m: Measured) => median(m.lab.filter((r) => r.command === 'up-fresh').map((r) => r.wallMs));
    const x = w(four) / w(two);
    rows.push({
      id: '4vs2:up-fresh',
      machines: '4 vs 2',
      measure: 'fresh `up`, 4 machines vs 2 (medians)',
      value: `${ms(w(four))} / ${ms(w(two))}`,
      target: `≤ ${TARGETS.fresh4vs2} ×`,
      actual: ratio(x),
      ratio: x,
      ok: x <= TARGETS.fresh4vs2,
    });
  }
  return rows;
}

function commandRows(all: Measured[]): CommandRow[] {
  const rows: CommandRow[] = [];
  for (const m of all) {
    for (const c of LOCAL_COMMANDS) {
      const rss = m.local[c].maxRssMiB;
      rows.push({ id: `${m.machines}:${c}`, machines: m.machines, command: LABEL[c], peakRssMiB: rss.length ? max(rss) : undefined });
    }
    for (const c of LAB_COMMANDS) {
      const runs = m.lab.filter((r) => r.command === c);
      const perMachine = (f: (r: LabRun) => number[]) => max(runs.flatMap(f));
      const tool = c === 'plan' ? undefined : perMachine((r) => Object.values(r.transport ?? {}).map((t) => t.connections));
      const sshd = perMachine((r) => Object.values(r.sshdAccepted));
      const cmds = c === 'plan' ? undefined : perMachine((r) => Object.values(r.transport ?? {}).map((t) => t.commands));
      const rss = runs.map((r) => r.maxRssMiB).filter((x): x is number => x !== undefined);
      // the target holds when both counts are within it (and they agree: a mismatch is shown in the table)
      const ok = sshd <= TARGETS.sshConnectionsPerMachine && (tool === undefined || tool <= TARGETS.sshConnectionsPerMachine);
      rows.push({
        id: `${m.machines}:${c}`,
        machines: m.machines,
        command: LABEL[c],
        peakRssMiB: rss.length ? max(rss) : undefined,
        sshConnections: tool,
        sshdConnections: sshd,
        remoteCommands: cmds,
        ok,
      });
    }
  }
  return rows;
}

export function markdown(timing: TimingRow[], commands: CommandRow[], meta: { iterations: number; localRuns: number }): string {
  const lines: string[] = [];
  const plural = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  lines.push(
    `### peer-provision benchmark (lab commands: ${plural(meta.iterations, 'iteration')}; \`node -e 0\`, \`--help\`, \`validate\`: ${plural(meta.localRuns, 'run')}; wall clock, spawn to exit)`,
    '',
  );
  lines.push('| machines | measure | min | median | target | actual | |', '|---|---|---:|---:|---|---:|:-:|');
  for (const r of timing) {
    const a = r.value ?? ms(r.minMs!);
    const b = r.value ?? ms(r.medianMs!);
    lines.push(`| ${r.machines} | ${r.measure} | ${a} | ${b} | ${r.target ?? ''} | ${r.actual ?? ''} | ${mark(r.ok)} |`);
  }
  lines.push(
    '',
    `### Per command: peak memory, SSH connections and remote commands per machine (max over machines and iterations; target ≤ ${TARGETS.sshConnectionsPerMachine} connection)`,
    '',
  );
  lines.push(
    '| machines | command | peak RSS | ssh connections / machine (tool) | (sshd log) | remote commands / machine | |',
    '|---|---|---:|---:|---:|---:|:-:|',
  );
  const num = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '—' : String(x));
  for (const r of commands) {
    const rss = r.peakRssMiB === undefined ? '—' : `${Math.round(r.peakRssMiB)} MiB`;
    const disagree = r.sshConnections !== undefined && r.sshdConnections !== undefined && r.sshConnections !== r.sshdConnections ? ' ≠' : '';
    lines.push(
      `| ${r.machines} | ${r.command} | ${rss} | ${num(r.sshConnections)}${disagree} | ${num(r.sshdConnections)} | ${num(r.remoteCommands)} | ${mark(r.ok)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- the run
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/**
 * A peer.yaml of the lab's shape for n machines (ssh aliases, provided keys as file: references, the lab's install
 * URL), for validate, which needs no lab: the files it names are written too (validate checks that each is a
 * readable 0600 file), with placeholder contents.
 */
function syntheticPeerYaml(n: number): string {
  const path = join(scratch, `peer-${n}.yaml`);
  let text =
    "# peer-provision bench: validate input (the lab's shape)\nversion: 1\nname: lab\nsshConfig: ssh_config\ntailnet:\n  provider: provided\nmachines:\n";
  for (let i = 1; i <= n; i++) {
    text +=
      `  m${i}:\n    ssh: lab-m${i}\n    tailscale:\n      hostname: m${i}\n      authKey: file:keys/m${i}.key\n` +
      `      installUrl: https://10.231.57.1:9443/install.sh\n    gateway:\n      port: 18789\n      token: generate\n`;
  }
  writeFileSync(path, text);
  writeFileSync(join(scratch, 'ssh_config'), '# bench: validate only reads that this file exists\n');
  mkdirSync(join(scratch, 'keys'), { recursive: true });
  for (let i = 1; i <= n; i++) writeFileSync(join(scratch, 'keys', `m${i}.key`), `tskey-auth-bench${'0'.repeat(24)}${i}\n`, { mode: 0o600 });
  return path;
}

/**
 * `node -e 0`, `--help` and `validate`, interleaved, after one untimed warm-up each. Measured while no lab of ours
 * runs (the lab's gateways keep the CPUs busy for a while after every start or restart).
 */
async function measureLocal(n: number, runs: number): Promise<Measured['local']> {
  const file = syntheticPeerYaml(n);
  const measured: Measured['local'] = { node: { wallMs: [], maxRssMiB: [] }, help: { wallMs: [], maxRssMiB: [] }, validate: { wallMs: [], maxRssMiB: [] } };
  const local: Record<LocalCommand, () => Promise<Exec>> = {
    node: () => exec(process.execPath, ['-e', '0']),
    help: () => cli('--help'),
    validate: () => cli('validate', '-f', file),
  };
  for (let i = 0; i <= runs; i++) {
    // i = 0: warm-up, not recorded
    for (const c of LOCAL_COMMANDS) {
      const r = await local[c]();
      if (r.code !== 0) throw new CommandFailed(`${LABEL[c]} failed: exit ${r.code}\n${r.stderr}`);
      if (i === 0) continue;
      measured[c].wallMs.push(r.wallMs);
      if (r.maxRssKiB !== undefined) measured[c].maxRssMiB.push(r.maxRssKiB / 1024);
    }
  }
  log(
    `${n} machines: node -e 0 ${ms(median(measured.node.wallMs))}, --help ${ms(median(measured.help.wallMs))}, validate ${ms(median(measured.validate.wallMs))} (medians of ${runs})`,
  );
  return measured;
}

export interface Failure {
  machines: number;
  command: LabCommand;
  iteration: number;
  message: string;
}

async function measureLab(n: number, iterations: number, failures: Failure[], kind: MachineKind = 'supervisor'): Promise<LabRun[]> {
  const t0 = Date.now();
  const lab = await useLab({ machines: n, kinds: kind }); // (in a test run: the run's lab, reset)
  log(`lab with ${n} machines up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  let file = lab.peerYaml();
  const runs: LabRun[] = [];
  for (let i = 1; i <= iterations; i++) {
    if (i > 1) {
      await uninstallTailscale(lab);
      file = lab.peerYaml(); // fresh single-use auth keys
    }
    for (const c of kind === 'systemd' ? SYSTEMD_COMMANDS : LAB_COMMANDS) {
      const settledMs = await settle(lab);
      let run: LabRun;
      try {
        run = await labCommand(lab, file, c, i);
      } catch (error) {
        if (!(error instanceof CommandFailed)) throw error;
        // recorded and left out of the figures; the next commands go on (down restores, a re-run resumes)
        failures.push({ machines: n, command: c, iteration: i, message: error.message });
        log(`${n} machines, iteration ${i}/${iterations}: ${c} FAILED: ${error.message}`);
        continue;
      }
      run.settledMs = settledMs;
      runs.push(run);
      const conns = run.transport
        ? Object.values(run.transport)
            .map((t) => t.connections)
            .join('/')
        : '—';
      log(
        `${n} machines, iteration ${i}/${iterations}: ${c} ${ms(run.wallMs)} (ssh connections per machine: tool ${conns}, sshd ${Object.values(run.sshdAccepted).join('/')})`,
      );
    }
  }
  return runs;
}

export interface BenchOptions {
  machines: number[];
  systemd: number;
  iterations: number;
  localRuns: number;
  out: string;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      machines: { type: 'string', default: '2,4' },
      systemd: { type: 'string', default: '2' },
      iterations: { type: 'string', default: '3' },
      'local-runs': { type: 'string', default: '10' },
      out: { type: 'string', default: 'bench-results.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write('usage: npm run bench -- [--machines 2,4] [--systemd 2] [--iterations 3] [--local-runs 10] [--out bench-results.json]\n');
    process.exit(0);
  }
  const machines = values.machines!.split(',').map((s) => Number(s.trim()));
  if (machines.length === 0 || machines.some((x) => !Number.isInteger(x) || x < 2 || x > 6))
    throw new Error(`--machines: a list of 2..6, got ${values.machines}`);
  const systemd = Number(values.systemd);
  if (!Number.isInteger(systemd) || systemd === 1 || systemd < 0 || systemd > 6) throw new Error(`--systemd: 0 (skip) or 2..6, got ${values.systemd}`);
  const iterations = Number(values.iterations);
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations: a positive integer, got ${values.iterations}`);
  const localRuns = Number(values['local-runs']);
  if (!Number.isInteger(localRuns) || localRuns < 1) throw new Error(`--local-runs: a positive integer, got ${values['local-runs']}`);
  return { machines, systemd, iterations, localRuns, out: resolve(values.out!) };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  const status = labStatus(options.systemd ? ['supervisor', 'systemd'] : ['supervisor']);
  if (!status.ok) {
    process.stderr.write(`bench: the lab cannot run here: ${status.reason}\n`);
    return 1;
  }
  scratch = mkdtempSync(join(tmpdir(), 'pp-bench-'));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: tearing the lab down`);
    void (labHeldByMe() ? labDown() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (!hasGnuTime()) log(`${TIME_BIN} (GNU time) not usable: peak memory by polling /proc/PID/status VmHWM`);
  const started = Date.now();
  const all: Measured[] = [];
  const failures: Failure[] = [];
  let systemd: { machines: number; lab: LabRun[] } | undefined;
  try {
    // the local commands first, on a quiet host; then one lab per machine count
    for (const n of options.machines) all.push({ machines: n, local: await measureLocal(n, options.localRuns), lab: [] });
    for (const m of all) m.lab = await measureLab(m.machines, options.iterations, failures);
    if (options.systemd) systemd = { machines: options.systemd, lab: await measureLab(options.systemd, options.iterations, failures, 'systemd') };
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof CommandFailed ? error.message : (error as Error).stack}\n`);
    return 1;
  } finally {
    await releaseLab();
    rmSync(scratch, { recursive: true, force: true });
  }
  const timing = timingRows(all, systemd);
  const commands = commandRows(all);
  let table = markdown(timing, commands, options);
  if (failures.length) {
    table += `\n### Failed runs (left out of the figures above)\n\n${failures.map((f) => `- ${f.machines} machines, iteration ${f.iteration}: ${f.message.split('\n')[0]}`).join('\n')}\n`;
  }
  process.stdout.write(table);
  const doc = {
    format: 'peer-provision/bench@1',
    date: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    node: process.version,
    cpus: cpus().length,
    peakMemory: hasGnuTime() ? 'GNU time %M (max RSS of the child)' : '/proc/PID/status VmHWM, polled',
    options: { machines: options.machines, systemd: options.systemd, iterations: options.iterations, localRuns: options.localRuns },
    targets: TARGETS,
    timing,
    commands,
    runs: all,
    systemdRuns: systemd,
    failures,
    markdown: table,
  };
  writeFileSync(options.out, JSON.stringify(doc, null, 2) + '\n');
  log(`figures written to ${options.out} (${doc.durationS} s in all)`);
  return failures.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`bench: ${(error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
