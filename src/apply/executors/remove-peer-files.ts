// remove-peer-files (down): the folders peer-provision wrote (as it recorded them on the machine), by templates/restore.sh.
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const removePeerFiles: Executor<'remove-peer-files'> = {
  title: 'remove peer files',
  async run(step, ctx) {
    await remoteStep(runOf(step, ctx), this.title, 'restore', { STACK: ctx.spec.name, RECORDS: '', FILES_TOO: 1 });
    return { written: 'peer-files' };
  },
};
