/**
 * One lab for a whole test run. test/run.ts builds it while the unit tests run and tears it down at the end; each lab
 * file adopts it with `useLab`, which first puts every machine back as a user had it before peer-provision (`resetLab`:
 * no Tailscale (and no node at headscale), no peer-provision files, the file's gateway config, the gateway healthy on loopback). That is much
 * cheaper than new machines: the gateway restarts only when its config has to change. A file run on its own (or one
 * that asks for `fresh` machines, or another shape) builds its own lab, and tears it down after if it is not a run's.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { record, timeEachTest } from '../timing/record.js';
import {
  currentLab,
  defaultGatewayConfig,
  GATEWAY_PORT,
  kindsFor,
  type Lab,
  labDown,
  labHeldByMe,
  labUp,
  type MachineKind,
  START_SSHD,
  STATE_DIR,
  waitFor,
} from './lab.js';

type Configs = Record<string, string | ((token: string) => string)>;
export interface UseLabOptions {
  machines?: number;
  kinds?: MachineKind | MachineKind[];
  /** Each machine's gateway config (by name), as labUp takes them; the lab's default for the others. */
  configs?: Configs;
  /** New machines even when the run's lab would do (a test about the lab's own bring-up or teardown). */
  fresh?: boolean;
}

const inRun = () => Boolean(process.env.PEER_LAB_RUN);

/**
 * An e2e file's lab, called in its describe(): before the file's tests the lab (useLab), then `setUp` (the file's own
 * preparation, given the lab); after them `tearDown`, then the lab released; each test timed. Nothing runs when the
 * lab cannot run here (`skip`: why).
 */
export function labForFile(skip: string | false, options: UseLabOptions, setUp: (lab: Lab) => Promise<void> | void, tearDown?: () => Promise<void>): void {
  let lab: Lab | undefined;
  before(
    async () => {
      if (skip) return;
      lab = await useLab(options);
      await setUp(lab);
    },
    { timeout: 25 * 60_000 },
  );
  after(async () => {
    await tearDown?.();
    await releaseLab();
  });
  timeEachTest(() => lab);
}

/** Each machine's file at `path` as it is now: the bytes a file's down must put back. */
export const filesOf = (lab: Lab, machines: string[], path: string | ((machine: string) => string)): Map<string, string> =>
  new Map(machines.map((m) => [m, lab.readFile(m, typeof path === 'string' ? path : path(m))]));

/** The run's lab, reset for this file, or a lab of its own. */
export async function useLab(opts: UseLabOptions = {}): Promise<Lab> {
  const machines = opts.machines ?? 2;
  const kinds = kindsFor(machines, opts.kinds);
  // (in a run, the lab files start once the run's lab is up or has failed: test/run.ts)
  if (!opts.fresh && inRun()) {
    const lab = currentLab();
    if (lab && labHeldByMe() && lab.machines.map((m) => m.kind).join() === kinds.join() && kinds.every((k) => k === 'supervisor')) {
      try {
        await resetLab(lab, opts.configs);
        record('lab reset');
        return lab;
      } catch (error) {
        console.log(`# the run's lab could not be reset, building a new one: ${(error as Error).message}`);
      }
    }
  }
  record('lab up');
  return labUp({ machines, kinds, configs: opts.configs });
}

/** After a file: its own lab is torn down; the run's stays for the next file. */
export async function releaseLab(): Promise<void> {
  if (!inRun() && labHeldByMe()) await labDown();
}

/** What peer-provision and the lab's tests leave on a supervisor machine (Tailscale apart), removed; then checked. */
const CLEAN = `set -u
for d in /root/.peer-provision; do while mountpoint -q "$d" 2>/dev/null; do umount "$d" || break; done; done
rm -rf /root/.peer-provision /root/.openclaw/peer-agent /root/.openclaw/workspace/skills/peer-messaging \\
  /root/.openclaw/.peer-provision.* /root/.openclaw/.env /tmp/peer-provision-* /tmp/pp-*
[ -L /root/.openclaw/openclaw.json ] && rm -f /root/.openclaw/openclaw.json
rm -rf /root/dotfiles
pgrep -x sshd >/dev/null || ${START_SSHD}
test ! -e /root/.peer-provision`;

/** Stops the supervisor (and its gateway), writes the config from stdin, starts the supervisor again. */
const REWRITE_CONFIG = `set -eu
sp=$(cat /run/openclaw-supervisor.pid 2>/dev/null || true)
if [ -n "$sp" ]; then kill -TERM "$sp" 2>/dev/null || true; while kill -0 "$sp" 2>/dev/null; do sleep 0.1; done; fi
while pgrep -x openclaw-gateway >/dev/null; do sleep 0.1; done
(umask 077 && cat > /root/.openclaw/openclaw.json)
setsid /usr/local/sbin/pplab-gw-supervisor </dev/null >>/var/log/pplab/supervisor.out 2>&1 &`;

/**
 * Puts each machine back as a user had it before peer-provision: see CLEAN, the config given for it (the lab's default
 * otherwise), and a gateway that answers on loopback only. Throws when a machine cannot be brought there.
 */
export async function resetLab(lab: Lab, configs: Configs = {}): Promise<void> {
  for (const dir of ['stacks', 'pulumi']) rmSync(join(STATE_DIR, dir), { recursive: true, force: true });
  // every node an earlier file left is gone, as if deleted in the admin console
  lab.deleteNodes();
  await Promise.all(
    lab.machines.map(async (m) => {
      if (m.kind !== 'supervisor') throw new Error(`${m.name}: only supervisor machines are reset`);
      await lab.removeTailscale(m.name);
      const clean = await lab.run(m.name, CLEAN);
      if (clean.code !== 0) throw new Error(`${m.name}: not clean after the reset (${clean.code}): ${clean.stderr}`);
      const given = configs[m.name];
      const want = typeof given === 'function' ? given(m.gatewayToken) : (given ?? defaultGatewayConfig(m.name, m.gatewayToken));
      let have: string | undefined;
      try {
        have = lab.readFile(m.name, m.configPath);
      } catch {
        have = undefined;
      }
      if (have !== want || !(await onLoopbackOnly(lab, m.name)).ok) {
        const w = await lab.run(m.name, REWRITE_CONFIG, { input: want });
        if (w.code !== 0) throw new Error(`${m.name}: cannot rewrite the gateway config: ${w.stderr}`);
        await lab.waitGateways([m.name], 120_000);
        // asked again for a while: on a loaded machine (a new one, compiling the lab's programs beside the tests) a gateway
        // that has just answered its health was once found otherwise, and the run built a whole new lab for it
        let seen = { ok: false, found: 'not asked' };
        await waitFor('loopback only', async () => (seen = await onLoopbackOnly(lab, m.name)).ok, 30_000, 1000).catch(() => {
          throw new Error(`${m.name}: the gateway does not listen on loopback only after the reset (${seen.found})`);
        });
      }
    }),
  );
}

/** Whether the gateway answers on loopback and listens nowhere else; found: what was seen, for an error. */
async function onLoopbackOnly(lab: Lab, machine: string): Promise<{ ok: boolean; found: string }> {
  const r = await lab.run(
    machine,
    `curl -fsS -m 2 http://127.0.0.1:${GATEWAY_PORT}/health >/dev/null && ss -ltnH 'sport = :${GATEWAY_PORT}' | awk '{print $4}'`,
  );
  const addrs = r.stdout.split('\n').filter(Boolean);
  const ok = r.code === 0 && addrs.length > 0 && addrs.every((a) => a.startsWith('127.0.0.1:'));
  return { ok, found: r.code === 0 ? `listening on ${addrs.join(', ') || 'nothing'}` : `health: ${r.stderr.trim() || `exit ${r.code}`}` };
}
