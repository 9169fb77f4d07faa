// leave (down, last on its machine): log the node out; in the background when this connection runs over it.
import { remoteStep } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const leave: Executor<'leave'> = {
  title: 'leave the tailnet',
  async run(step, ctx) {
    await remoteStep(runOf(step, ctx), this.title, 'leave', { DETACH: step.input.detach ? 1 : 0, TAGS: step.input.tags.join(',') });
    return {};
  },
};
