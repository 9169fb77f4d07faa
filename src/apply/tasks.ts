// What up and down share about running steps as listr2 tasks: one step of one machine (skipped once an
// earlier step of that machine failed, reported as events), and the renderer options.
import { PRESET_TIMESTAMP, ProcessOutput, type ListrTask } from 'listr2';
import { interrupted } from '../interrupt.js';
import type { Events } from '../output/events.js';
import type { MachineRun } from './context.js';

export type Renderer = 'default' | 'simple' | 'silent';

export function machineStep(
  run: MachineRun,
  title: string,
  enabled: boolean,
  work: () => Promise<void>,
  context: { events: Events; failures: Error[] },
): ListrTask {
  const emit = (status: string, error?: string) =>
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

export const machineTitle = (run: MachineRun) =>
  `${run.machine.name} (${run.machine.ssh.kind === 'local' ? 'local' : run.machine.ssh.destination})`;

/** Progress on stderr (stdout is for data); a live tree on a terminal, timestamped lines elsewhere. */
export const listrOptions = (renderer: Renderer) =>
  ({
    exitOnError: false,
    renderer,
    fallbackRenderer: 'simple',
    rendererOptions: { processOutput: new ProcessOutput(process.stderr, process.stderr) },
    fallbackRendererOptions: { timestamp: PRESET_TIMESTAMP },
    registerSignalListeners: false,
  }) as never;
