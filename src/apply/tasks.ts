// listr2's options for apply's progress (src/apply/run-plan.ts): where it goes and how it looks.
import { ListrLogger, PRESET_TIMESTAMP, ProcessOutput } from 'listr2';
import { redact } from '../model/redact.js';

/**
 * The stream listr2 writes to, every chunk redacted (a step's error can quote what a machine answered). The terminal's
 * size and kind come from the real stream; listr2 replaces and restores `write` on this object, never on stderr.
 */
export function redacted(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const out = Object.create(stream) as NodeJS.WriteStream;
  Object.defineProperty(out, 'write', {
    value: (chunk: unknown, ...rest: unknown[]) => (stream.write as (...a: unknown[]) => boolean)(typeof chunk === 'string' ? redact(chunk) : chunk, ...rest),
    writable: true,
    configurable: true,
  });
  for (const key of ['isTTY', 'columns', 'rows'] as const) Object.defineProperty(out, key, { get: () => stream[key], enumerable: true });
  return out;
}

export type Renderer = 'default' | 'simple' | 'silent';

/**
 * Progress on stderr (stdout is for data); a live tree on a terminal, timestamped lines elsewhere. The simple
 * renderer writes through its logger, not through processOutput, so it gets a logger bound to stderr too.
 */
export function listrOptions(renderer: Renderer) {
  const processOutput = new ProcessOutput(redacted(process.stderr), redacted(process.stderr));
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
