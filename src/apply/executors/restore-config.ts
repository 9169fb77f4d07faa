// restore-config (down): put each config back as the plan decided: byte for byte, or only peer-provision's keys
// undone (someone else edited it since), or nothing (it is the original). templates/restore.sh does it; the
// reverse patch is built here because it holds the original token, which never enters the plan.
import JSON5 from 'json5';
import { reversePatch } from '../../model/gateway-settings.js';
import type { RestoreDecision } from '../../plan/step-kinds.js';
import type { MachineRun } from '../context.js';
import { stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

/** A config that no longer parses still gets peer-provision's keys undone (OpenClaw then says what is wrong). */
function parseOrUndefined(text: string | undefined): Record<string, unknown> | undefined {
  try {
    return text ? (JSON5.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** restore.sh's RECORDS: per config, "ID MODE PATCH_BASE64" (the patch holds the original token). */
export function restoreRecords(run: MachineRun, records: RestoreDecision[]): string {
  return records
    .map((r) => {
      const texts = run.private.records.get(r.id);
      const stackPeers = [...run.spec.machines.map((m) => m.name), ...(run.state.gateway.friendPeers ?? [])];
      const reverse = () => reversePatch(parseOrUndefined(texts?.current), parseOrUndefined(texts?.orig), stackPeers);
      const patch = r.mode === 'patch' ? Buffer.from(JSON.stringify(reverse())).toString('base64') : '-';
      return `${r.id} ${r.mode} ${patch}`;
    })
    .join('\n');
}

export const restoreConfig: Executor<'restore-config'> = {
  async run(step, ctx) {
    const run = runOf(step, ctx);
    await stepScript(run, step, { STACK: ctx.spec.name, RECORDS: restoreRecords(run, step.input.records), FILES_TOO: 0 });
    return { written: 'gateway-config' };
  },
};
