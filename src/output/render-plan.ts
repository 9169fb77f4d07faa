// A Plan as a person reads it, in the terraform/pulumi style: + add, ~ change, - destroy, ? unknown, then every
// blocking problem with its fix (offline: what is not ready yet, as validate words it).

import { type Colour, paint } from '../console/colour.js';
import { type FieldChange, type Op, type Plan, type Step, SYMBOL } from '../plan/types.js';

const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value));
const OP_COLOUR: Record<Op, Colour> = { add: 'green', change: 'yellow', destroy: 'red', unknown: 'gray' };

function changeLine(c: FieldChange): string {
  if (c.sensitive) return `${c.field}: (sensitive value)`;
  if (c.from === undefined && c.to !== undefined) return `${c.field} = ${typeof c.to === 'string' && c.to.startsWith('(') ? c.to : show(c.to)}`;
  return `${c.field}: ${show(c.from)} -> ${show(c.to)}`;
}

export interface RenderOptions {
  /** The machines were not looked at on purpose (plan --offline). */
  offline?: boolean;
  /** ANSI colours (see colour.ts for when they are on). */
  colour?: boolean;
}

export function renderPlan(plan: Plan, options: RenderOptions = {}): string {
  const c = (colour: Colour, text: string) => paint(text, colour, options.colour);
  const actionLines = (action: Step, indent: string): string[] => {
    const lines = [`${indent}${c(OP_COLOUR[action.op], SYMBOL[action.op])} ${action.resource.padEnd(17)} ${action.summary}`];
    for (const change of action.changes ?? []) lines.push(`${indent}      ${changeLine(change)}`);
    if (action.reason && action.op !== 'unknown') lines.push(`${indent}      (${action.reason})`);
    return lines;
  };
  const out: string[] = [c('bold', `${plan.command === 'up' ? 'Plan' : 'Teardown plan'} for stack ${plan.stack} (${plan.file})`), ''];
  out.push(`tailnet (provider: ${plan.tailnet.provider})`);
  for (const a of plan.tailnet.actions) out.push(...actionLines(a, '  '));
  for (const note of plan.tailnet.notes) out.push(`  note: ${note}`);
  if (plan.tailnet.actions.length === 0 && plan.tailnet.notes.length === 0) out.push('  no changes');
  for (const m of plan.machines) {
    const state = m.skipped
      ? `: ${m.skipped}`
      : m.observed === 'observed'
        ? ''
        : m.observed === 'unreachable'
          ? `: ${c('red', 'unreachable')}: ${m.reason}`
          : options.offline
            ? ': state unknown, not observed (--offline)'
            : ': state unknown';
    out.push('', `machine ${m.machine} (${m.target})${state}`);
    for (const note of m.skipped ? [] : (m.notes ?? [])) out.push(`  note: ${note}`);
    for (const b of m.blockers ?? []) out.push(`  ${c('red', '! blocked:')} ${b.reason}`, `      fix: ${b.fix}`);
    for (const a of m.actions) out.push(...(m.observed === 'unreachable' ? [] : actionLines(a, '  ')));
    if (m.actions.length === 0 && !m.skipped) out.push('  no changes');
  }
  const s = plan.summary;
  out.push(
    '',
    `Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${s.unknown ? `, ${s.unknown} unknown until the machines are observed` : ''}.`,
  );
  if (plan.blockers.length > 0 && options.offline) {
    // Offline, plan exits 0: what is missing on this side is said as validate says it. "Blocked" is kept for
    // what makes plan exit 1, so the words never contradict the exit code.
    out.push('', c('yellow', `Not ready for ${plan.command} yet (${plan.blockers.length}):`));
    for (const b of plan.blockers) out.push(`  - ${b.where}: ${b.reason}`, `    fix: ${b.fix}`);
  } else if (plan.blockers.length > 0) {
    out.push('', c('red', `Blocked: ${plan.command} changes nothing until these are fixed (${plan.blockers.length}):`));
    for (const b of plan.blockers) out.push(`  ${c('red', '✗')} ${b.where}: ${b.reason}`, `      fix: ${b.fix}`);
  }
  const unreachable = plan.machines.filter((m) => m.observed === 'unreachable' && !m.skipped);
  if (unreachable.length > 0) {
    out.push(
      '',
      c(
        'red',
        `Unreachable (${unreachable.length}): ${unreachable.map((m) => m.machine).join(', ')}: their state is unknown; see why above, fix it (ssh, most often) and run plan again.`,
      ),
    );
  }
  return out.join('\n') + '\n';
}
