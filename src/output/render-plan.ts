// A Plan as a person reads it, in the terraform/pulumi style: + add, ~ change, - destroy, ? unknown.
import { blockers, SYMBOL, type Action, type FieldChange, type Plan } from '../plan/types.js';

const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value));

function changeLine(c: FieldChange): string {
  if (c.sensitive) return `${c.field}: (sensitive value)`;
  if (c.from === undefined && c.to !== undefined) return `${c.field} = ${typeof c.to === 'string' && c.to.startsWith('(') ? c.to : show(c.to)}`;
  return `${c.field}: ${show(c.from)} -> ${show(c.to)}`;
}

function actionLines(action: Action, indent: string): string[] {
  const lines = [`${indent}${SYMBOL[action.op]} ${action.resource.padEnd(17)} ${action.summary}`];
  for (const c of action.changes ?? []) lines.push(`${indent}      ${changeLine(c)}`);
  if (action.reason && action.op !== 'unknown') lines.push(`${indent}      (${action.reason})`);
  return lines;
}

export function renderPlan(plan: Plan): string {
  const out: string[] = [`${plan.command === 'up' ? 'Plan' : 'Teardown plan'} for stack ${plan.stack} (${plan.file})`, ''];
  out.push(`tailnet (provider: ${plan.tailnet.provider})`);
  for (const a of plan.tailnet.actions) out.push(...actionLines(a, '  '));
  for (const note of plan.tailnet.notes) out.push(`  note: ${note}`);
  if (plan.tailnet.actions.length === 0 && plan.tailnet.notes.length === 0) out.push('  no changes');
  for (const m of plan.machines) {
    out.push('', `machine ${m.machine} (${m.target})${m.observed === 'observed' ? '' : `: state unknown, ${m.reason ?? 'not observed (--offline)'}`}`);
    for (const note of m.notes ?? []) out.push(`  note: ${note}`);
    for (const b of m.blockers ?? []) out.push(`  ! blocked: ${b.reason}`, `      fix: ${b.fix}`);
    for (const a of m.actions) out.push(...actionLines(a, '  '));
    if (m.actions.length === 0) out.push('  no changes');
  }
  const blocked = blockers(plan);
  if (blocked.length) out.push('', `Blocked: ${blocked.length} problem${blocked.length === 1 ? '' : 's'} must be fixed first (see "! blocked" above); nothing will be changed until then.`);
  const s = plan.summary;
  out.push('', `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${s.unknown ? `, ${s.unknown} unknown until the machines are observed` : ''}.`);
  return out.join('\n') + '\n';
}
