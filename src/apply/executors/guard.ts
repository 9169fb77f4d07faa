// guard and unguard: the inbound guard's nftables table on a friend's machine, by templates/guard.sh.
import { stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const guard: Executor<'guard'> = {
  async run(step, ctx) {
    await stepScript(runOf(step, ctx), step, { ACTION: 'add', TABLE: step.input.table, PORT: step.input.port });
    return {};
  },
};

export const unguard: Executor<'unguard'> = {
  async run(step, ctx) {
    await stepScript(runOf(step, ctx), step, { ACTION: 'remove', TABLE: step.input.table, PORT: '' });
    return {};
  },
};
