// One question on the terminal (up's, down's and rotate's confirmation, init's questions). On a terminal readline
// reads Ctrl-C and Ctrl-D as keys itself, so no SIGINT reaches src/interrupt.ts and the question fails with an
// AbortError that used to surface as "unexpected error" with its stack and exit 1. Here Ctrl-C is an interrupt
// (exit 130, as README promises: nothing was changed yet) and Ctrl-D the end of the answers.
import type { Interface } from 'node:readline/promises';
import { InterruptedError } from '../errors.js';
import { stderr } from './io.js';

/** The answer as typed; undefined when the input ended (Ctrl-D). Ctrl-C throws InterruptedError. */
export async function ask(rl: Interface, question: string): Promise<string | undefined> {
  const controller = new AbortController();
  let ctrlC = false;
  // with a listener readline emits SIGINT instead of failing the question; aborting it tells the two keys apart
  const onCtrlC = () => {
    ctrlC = true;
    controller.abort();
  };
  rl.once('SIGINT', onCtrlC);
  try {
    return await rl.question(question, { signal: controller.signal });
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    if (ctrlC) throw new InterruptedError('Interrupted at the question: nothing was changed.');
    stderr('\n'); // Ctrl-D leaves the prompt's line open (Ctrl-C's is closed by readline)
    return undefined;
  } finally {
    rl.off('SIGINT', onCtrlC);
  }
}
