// remove-peer-files (down): the folders peer-provision wrote (as it recorded them on the machine), by templates/restore.sh.
import { stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const removePeerFiles: Executor<'remove-peer-files'> = {
  async run(step, ctx) {
    await stepScript(runOf(step, ctx), step, { STACK: ctx.spec.name, RECORDS: '', FILES_TOO: 1 });
    return { written: 'peer-files' };
  },
};
