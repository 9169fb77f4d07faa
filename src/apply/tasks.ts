// What up and down share about running steps as listr2 tasks: one step of one machine (skipped once an
// earlier step of that machine failed, reported as events), and the renderer options.
import { ListrLogger, PRESET_TIMESTAMP, ProcessOutput, type ListrTask } from 'listr2';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import { describeTarget } from '../plan/types.js';
import type { MachineRun } from './context.js';

export type Renderer = 'default' | 'simple' | 'silent';

export function machineStep(
  run: MachineRun,
  title: string,
  enabled: boolean,
  work: () => Promise<void>,
  context: { events: Events; failures: Error[] },
): ListrTask {
  const emit = (status: 'start' | 'done' | 'failed', error?: string) =>
    context.events.emit({ event: 'step', machine: run.machine.name, step: title, status, ...(error ? { error } : {}) });
  return {
    title,
    enabled: () => enabled,
    skip: () => (run.failed ? 'skipped: an earlier step failed' : interrupted() ? 'skipped: interrupted' : false),
    task: async () => {
      emit('start');
      try {
        await work();
        emit('done');
      } catch (error) {
        run.failed = error as Error;
        context.failures.push(error as Error);
        emit('failed', (error as Error).message);
        throw error;
      }
    },
  };
}

export const machineTitle = (run: MachineRun) => `${run.machine.name} (${describeTarget(run.machine.ssh)})`;

/**
 * Progress on stderr (stdout is for data); a live tree on a terminal, timestamped lines elsewhere. The simple
 * renderer writes through its logger, not through processOutput, so it gets a logger bound to stderr too.
 */
export function listrOptions(renderer: Renderer) {
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const lines = { logger: new ListrLogger({ processOutput, useIcons: true }), timestamp: PRESET_TIMESTAMP };
  return {
    exitOnError: false,
    renderer,
    fallbackRenderer: 'simple',
    rendererOptions: renderer === 'simple' ? lines : { processOutput },
    fallbackRendererOptions: lines,
    registerSignalListeners: false,
  } as never;
}
