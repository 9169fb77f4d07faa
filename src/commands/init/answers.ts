// init's answers, checked with the rules peer.yaml validation uses: an answer is tried as the peer.yaml it would
// make (with the answers before it), so a question can be asked again the moment its answer is wrong.
import { problemsInText } from '../../peer-yaml/load.js';
import { type MachineAnswer, peerYamlText } from './template.js';

/**
 * Names become YAML keys as they are: only what the schema allows gets that far (no injection through a name). These
 * are schemas/peer.schema.json's patterns for machine and stack names; a test keeps them equal.
 */
export const MACHINE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const STACK_NAME = /^(?!.*--)[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const NAME_RULE = 'lowercase letters, digits and dashes (a machine at most 63, the stack at most 32 and never two dashes in a row)';
const MACHINE_NAME_RULE = 'a machine name is lowercase letters, digits and dashes, at most 63, not starting or ending with a dash';
export const MACHINE_FORMAT = 'expected NAME=TARGET, e.g. laptop=local or server=me@host:2222';

/** NAME=TARGET split at the first `=`, or undefined when either side is empty. */
export function splitMachine(spec: string): MachineAnswer | undefined {
  const eq = spec.indexOf('=');
  if (eq < 1 || eq === spec.length - 1) return undefined;
  return { name: spec.slice(0, eq), target: spec.slice(eq + 1) };
}

/** Why this answer cannot be the next machine, in one line; undefined when it can. */
export function machineProblem(spec: string, earlier: MachineAnswer[], stack: string, file: string): string | undefined {
  const machine = splitMachine(spec);
  if (!machine) return `${JSON.stringify(spec)}: ${MACHINE_FORMAT}`;
  if (!MACHINE_NAME.test(machine.name)) return `machine name ${JSON.stringify(machine.name)}: ${MACHINE_NAME_RULE}`;
  const same = earlier.findIndex((m) => m.name === machine.name);
  if (same !== -1) return `machine name ${machine.name} is already machine ${same + 1}'s: each machine has a name of its own`;
  // the provider changes no rule about a machine's own answer: the default one stands in until it is asked
  const text = peerYamlText({ name: stack, provider: 'pulumi', machines: [...earlier, machine] });
  const own = `machines.${machine.name}`;
  const problems = problemsInText(file, text).filter((p) => p.field === own || p.field.startsWith(`${own}.`));
  if (problems.length === 0) return undefined;
  // a rule may point at another machine's line (a target given twice): that file is not written yet
  const unwritten = (message: string) => message.replace(/ \((.+?):\d+:\d+\)/g, (at, path: string) => (path === file ? '' : at));
  return problems.map((p) => `${p.field}: ${unwritten(p.message)}`).join('; ');
}
