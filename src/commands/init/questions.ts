// init's questions on a terminal, as gh asks its own: each answer is checked as soon as it is typed, a wrong one
// is said in one line and its question asked again, and the answers before it are kept. Ctrl-C at any question
// exits 130 (console/ask.ts); Ctrl-D ends the list of machines once there are two.
import { createInterface } from 'node:readline/promises';
import { ask } from '../../console/ask.js';
import { colourWanted, paint } from '../../console/colour.js';
import { stderr } from '../../console/io.js';
import { UsageError } from '../../errors.js';
import { machineProblem, splitMachine } from './answers.js';
import type { InitAnswers, MachineAnswer } from './template.js';

const PROVIDERS = ['pulumi', 'provided'] as const;
type Provider = (typeof PROVIDERS)[number];

/** stack: the stack's name (already checked). */
export async function askAnswers(file: string, stack: string): Promise<InitAnswers> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    stderr('Machines to peer, one per line as NAME=TARGET (TARGET: local, user@host[:port] or an ssh alias); an empty line ends.\n');
    const machines = await askMachines((question) => ask(rl, question), file, stack);
    return { name: stack, provider: await askProvider((question) => ask(rl, question)), machines };
  } finally {
    rl.close();
  }
}

type Question = (question: string) => Promise<string | undefined>;

/** One line, marked, before the question comes again. */
const refused = (problem: string) => stderr(`${paint('✗', 'red', colourWanted(process.stderr))} ${problem}\n`);

async function askMachines(question: Question, file: string, stack: string): Promise<MachineAnswer[]> {
  const machines: MachineAnswer[] = [];
  for (;;) {
    const answer = await question(`machine ${machines.length + 1}: `);
    const line = (answer ?? '').trim();
    if (!line) {
      if (machines.length >= 2) return machines;
      if (answer === undefined) throw new UsageError('init: the input ended before two machines were given; nothing was written');
      refused('at least two machines');
      continue;
    }
    const problem = machineProblem(line, machines, stack, file);
    if (problem) refused(problem);
    else machines.push(splitMachine(line)!);
  }
}

async function askProvider(question: Question): Promise<Provider> {
  for (;;) {
    const answer = (
      (await question('Tailscale keys: pulumi (minted for you, needs the Pulumi CLI and an OAuth client) or provided (one auth key per machine) [pulumi]: ')) ??
      ''
    ).trim();
    if (!answer) return 'pulumi';
    if ((PROVIDERS as readonly string[]).includes(answer)) return answer as Provider;
    refused(`provider ${JSON.stringify(answer)}: expected pulumi or provided`);
  }
}
