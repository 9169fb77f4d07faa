// restore-config (down): put each config back as the plan decided: byte for byte, or only peer-provision's keys
// undone (someone else edited it since), or nothing (it is the original). templates/restore.sh does it; the
// reverse patch is built here because it holds the original token, which never enters the plan.
import JSON5 from 'json5';
import { OWNED_GATEWAY_KEYS, TOOL_FOR_PEERS } from '../../observe/owned-keys.js';
import type { RestoreDecision } from '../../plan/types.js';
import type { MachineRun } from '../context.js';
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

/** The patch that undoes only peer-provision's keys, for a config the user edited after up (its token: observe registered it). */
export function reversePatch(current: Record<string, unknown> | undefined, original: string | undefined): object {
  const orig = (original ? JSON5.parse(original) : {}) as { gateway?: Record<string, unknown> };
  const og = orig.gateway ?? {};
  const cur = ((current?.gateway ?? {}) as Record<string, unknown>) ?? {};
  const gateway: Record<string, unknown> = {};
  for (const key of OWNED_GATEWAY_KEYS) gateway[key] = og[key] ?? null;
  const oauth = (og.auth ?? {}) as Record<string, unknown>;
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

/** restore.sh's RECORDS: per config, "ID MODE PATCH_BASE64" (the patch holds the original token). */
export function restoreRecords(run: MachineRun, records: RestoreDecision[]): string {
  return records
    .map((r) => {
      const texts = run.private.records.get(r.id);
      const patch = r.mode === 'patch' ? Buffer.from(JSON.stringify(reversePatch(parseOrUndefined(texts?.current), texts?.orig))).toString('base64') : '-';
      return `${r.id} ${r.mode} ${patch}`;
    })
    .join('\n');
}

export const restoreConfig: Executor<'restore-config'> = {
  title: 'restore the gateway config',
  async run(step, ctx) {
    const run = runOf(step, ctx);
    await remoteStep(run, this.title, 'restore', { STACK: ctx.spec.name, RECORDS: restoreRecords(run, step.input.records), FILES_TOO: 0 });
    return { written: 'gateway-config' };
  },
};
