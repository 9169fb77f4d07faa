// A Remote that records the scripts apply sends and answers each template as the test says (its result line): apply tested without
// root, a lab or a network. A script is `VAR='value'` lines, then lib.sh, then the template: the template is
// recognised by its first comment line ("# join.sh: …") and the variables are read back from the assignments.
import type { Remote, RunResult } from '../../src/transport/remote.js';

export interface Sent {
  machine: string;
  template: string;
  vars: Record<string, string>;
}

/** What a template answers: an exit code and stderr (a failure), or the values of its result line. */
export type Answer = (vars: Record<string, string>) => { exitCode?: number; stderr?: string; values?: Record<string, string> };

/** The assignments at the top of a script, unquoted (shellQuote's '…'\''…' form). */
export function varsOf(script: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const re = /^([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/gm;
  for (const m of script.matchAll(re)) vars[m[1]!] = m[2]!.replace(/'\\''/g, "'");
  return vars;
}

const templateOf = (script: string) =>
  [...script.matchAll(/^# ([a-z-]+)\.sh:/gm)]
    .map((m) => m[1]!)
    .filter((t) => t !== 'lib')
    .pop() ?? '?';

export class FakeRemote implements Remote {
  readonly stats = { connections: 1, commands: 0 };
  constructor(
    readonly machine: string,
    private readonly sent: Sent[],
    private readonly answers: Record<string, Answer> = {},
  ) {}
  async run(script: string): Promise<RunResult> {
    this.stats.commands++;
    const template = templateOf(script);
    const vars = varsOf(script);
    this.sent.push({ machine: this.machine, template, vars });
    const { exitCode = 0, stderr = '', values = {} } = this.answers[template]?.(vars) ?? {};
    // a template that exits 0 ends with its one result line (templates/lib.sh `result`)
    const stdout = exitCode === 0 ? `${JSON.stringify({ changed: true, values, message: '' })}\n` : '';
    return { exitCode, stdout, stderr };
  }
  async close(): Promise<void> {}
  abort(): void {}
}
