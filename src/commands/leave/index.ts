// peer-provision leave [STACK]: the friend undoes what accept did on this machine: a down of this one machine as
// accept recorded it (the config put back, byte for byte where nobody edited it since; the peer files removed; the
// tailnet left only when this node is the one accept joined, by its tags). The invite is then spent.
import { UsageError } from '../../errors.js';
import { type AcceptedInvite, acceptedFile, readAccepted, writeAccepted } from '../../friend/accepted.js';
import { localSpec } from '../../friend/local-spec.js';
import type { View } from '../../output/view.js';
import type { CommonOptions } from '../../program.js';
import { tearDown } from '../tear-down.js';

export interface LeaveOptions extends CommonOptions {
  stack?: string;
  yes?: boolean;
}

export async function run(options: LeaveOptions, view: View): Promise<number> {
  const records = readAccepted();
  const record = activeRecord(records, options.stack);
  return tearDown(localSpec(record), { ...options, machine: undefined }, view, {
    name: 'leave',
    afterDone: () => writeAccepted(records.map((r) => (r.id === record.id ? { ...r, left: new Date().toISOString() } : r))),
  });
}

function activeRecord(records: AcceptedInvite[], stack: string | undefined): AcceptedInvite {
  const active = records.filter((r) => !r.left);
  if (stack !== undefined) {
    const found = active.find((r) => r.stack === stack);
    if (found) return found;
    throw new UsageError(`no accepted invite of stack ${JSON.stringify(stack)} on this machine${names(active)}`);
  }
  if (active.length === 1) return active[0]!;
  if (active.length === 0) throw new UsageError(`no accepted invite on this machine (${acceptedFile()} records none that is not left)`);
  throw new UsageError(`more than one accepted invite on this machine${names(active)}`, 'name the one to leave: peer-provision leave STACK');
}

const names = (records: AcceptedInvite[]) => (records.length ? ` (there are: ${records.map((r) => r.stack).join(', ')})` : '');
