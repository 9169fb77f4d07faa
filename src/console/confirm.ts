// The confirmation asked before anything is changed (up, down, rotate). Never asked without a terminal (or with
// --json): CI passes --yes or gets exit 2. (init's questions are its own: src/commands/init.) Anything but `yes`,
// the end of input (Ctrl-D) included, is a no; Ctrl-C throws InterruptedError (exit 130).
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';
import { ask } from './ask.js';

export async function confirm(question: string, options: { yes?: boolean; json?: boolean }): Promise<boolean> {
  if (options.yes) return true;
  if (options.json || !process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError('refusing to ask for confirmation without a terminal (or with --json): pass --yes to apply');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await ask(rl, `${question} Only 'yes' will be accepted: `);
    return answer?.trim() === 'yes';
  } finally {
    rl.close();
  }
}
