// listr2's options for apply's progress (src/apply/run-plan.ts): where it goes and how it looks.
import { ListrLogger, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';

export type Renderer = 'default' | 'simple' | 'silent';

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
