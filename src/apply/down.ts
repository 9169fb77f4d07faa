// apply for `down`: on every machine, put each gateway config back and remove the peer files, restart the
// gateway, and only then leave the tailnet (leaving may cut the connection down came over); then the tailnet
// side (keys, policy entries, devices). An unreachable machine is reported and skipped; everything else still
// happens, and a later down finishes it.
import JSON5 from 'json5';
import { Listr, type ListrTask } from 'listr2';
import { listrOptions, machineStep, machineTitle, type Renderer } from './tasks.js';
import { observeAll } from '../observe/index.js';
import { OWNED_GATEWAY_KEYS, TOOL_FOR_PEERS } from '../observe/owned-keys.js';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import { registerSecret } from '../output/redact.js';
import { plan } from '../plan/index.js';
import { offlineTailnetActions } from '../plan/tailnet.js';
import type { Action, Plan } from '../plan/types.js';
import type { Spec } from '../peer-yaml/types.js';
import type { Transport } from '../transport/remote.js';
import { has, type MachineRun } from './context.js';
import { remoteStep, restartGateway } from './steps.js';

export interface PreparedDown {
  plan: Plan;
  runs: Map<string, MachineRun>;
}

export async function prepareDown(spec: Spec, transport: Transport): Promise<PreparedDown> {
  const observed = await observeAll(spec, transport, true);
  const tailnet =
    spec.tailnet.provider === 'provided'
      ? offlineTailnetActions(spec, 'down')
      : { actions: offlineTailnetActions(spec, 'down').actions.map((a) => ({ ...a, op: 'destroy' as const, reason: undefined })), notes: [] };
  const result = plan({ spec, command: 'down', machines: new Map([...observed].map(([n, o]) => [n, o.observation])), tailnet });
  const runs = new Map<string, MachineRun>();
  for (const m of result.machines) {
    const o = observed.get(m.machine)!;
    if (o.observation.status !== 'observed') continue;
    const machine = spec.machines.find((x) => x.name === m.machine)!;
    runs.set(m.machine, { spec, machine, remote: transport.for(machine), state: o.observation.state, private: o.private!, actions: m.actions, token: '' });
  }
  return { plan: result, runs };
}


/** The patch that undoes only peer-provision's keys, for a config the user edited after up. */
export function reversePatch(current: Record<string, unknown> | undefined, original: string | undefined): object {
  const orig = (original ? JSON5.parse(original) : {}) as { gateway?: Record<string, unknown> };
  const og = orig.gateway ?? {};
  const cur = ((current?.gateway ?? {}) as Record<string, unknown>) ?? {};
  const gateway: Record<string, unknown> = {};
  for (const key of OWNED_GATEWAY_KEYS) gateway[key] = og[key] ?? null;
  const oauth = (og.auth ?? {}) as Record<string, unknown>;
  if (typeof oauth.token === 'string') registerSecret(oauth.token);
  gateway.auth = { mode: oauth.mode ?? null, token: oauth.token ?? null };
  const origAllow = ((og.tools as { allow?: string[] } | undefined)?.allow ?? []) as string[];
  const curAllow = ((cur.tools as { allow?: string[] } | undefined)?.allow ?? []) as string[];
  const allow = origAllow.includes(TOOL_FOR_PEERS) ? curAllow : curAllow.filter((t) => t !== TOOL_FOR_PEERS);
  gateway.tools = { allow: allow.length > 0 || og.tools ? allow : null };
  return { gateway };
}

/** A config that no longer parses still gets peer-provision's keys undone (OpenClaw then says what is wrong). */
function parseOrUndefined(text: string | undefined): Record<string, unknown> | undefined {
  try {
    return text ? (JSON5.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const action = (run: MachineRun, resource: Action['resource']) => run.actions.find((a) => a.resource === resource);

/** restore.sh's RECORDS: per config the plan decided on, "ID MODE PATCH_BASE64" (the patch holds the original token). */
function restoreRecords(run: MachineRun): string {
  return (action(run, 'gateway-config')?.restore ?? [])
    .map((r) => {
      const texts = run.private.records.get(r.id);
      const current = parseOrUndefined(texts?.current);
      const patch = r.mode === 'patch' ? Buffer.from(JSON.stringify(reversePatch(current, texts?.orig))).toString('base64') : '-';
      return `${r.id} ${r.mode} ${patch}`;
    })
    .join('\n');
}

export interface DownResult {
  failures: Error[];
}

export async function applyDown(spec: Spec, runs: Map<string, MachineRun>, options: { renderer: Renderer; events: Events; tailnet: () => Promise<void> }): Promise<DownResult> {
  const result: DownResult = { failures: [] };
  const step = (run: MachineRun, title: string, enabled: boolean, work: () => Promise<void>) =>
    machineStep(run, title, enabled, work, { events: options.events, failures: result.failures });
  const machineTasks = [...runs.values()].map(
    (run): ListrTask => ({
      title: machineTitle(run),
      task: (_, task) =>
        task.newListr(
          [
            step(run, 'restore the gateway config, remove peer files', has(run, 'gateway-config') || has(run, 'peer-files'), async () => {
              await remoteStep(run, 'restore the gateway config', 'restore', {
                STACK: spec.name,
                RECORDS: restoreRecords(run),
                FILES_TOO: has(run, 'peer-files') ? 1 : 0,
              });
            }),
            step(run, 'restart the gateway', has(run, 'gateway-restart'), async () => {
              // the restored config decides the bind and port; loopback answers for every bind but custom
              await restartGateway(run, '127.0.0.1', action(run, 'gateway-restart')?.port);
            }),
            step(run, 'leave the tailnet', has(run, 'tailnet-node'), async () => {
              await remoteStep(run, 'leave the tailnet', 'leave', { DETACH: action(run, 'tailnet-node')?.takeOver ? 1 : 0 });
            }),
          ],
          { concurrent: false, exitOnError: true },
        ),
    }),
  );
  const tasks = new Listr(
    [
      { title: 'machines', task: (_, task) => task.newListr(machineTasks, { concurrent: true, exitOnError: false }) },
      {
        title: 'tailnet: revoke keys, remove devices and policy entries',
        enabled: () => spec.tailnet.provider === 'pulumi',
        skip: () => (interrupted() ? 'skipped: interrupted' : false),
        task: async () => {
          try {
            await options.tailnet();
          } catch (error) {
            result.failures.push(error as Error);
            throw error;
          }
        },
      },
    ],
    listrOptions(options.renderer),
  );
  await tasks.run().catch(() => undefined);
  return result;
}
