// leave (down, last on its machine): log the node out; in the background when this connection runs over it.
import { stepScript } from '../steps.js';
import { type Executor, runOf } from './types.js';

export const leave: Executor<'leave'> = {
  async run(step, ctx) {
    await stepScript(runOf(step, ctx), step, { DETACH: step.input.detach ? 1 : 0, TAGS: step.input.tags.join(',') });
    return {};
  },
};
