// Ctrl-C and SIGTERM. The first stops new steps from starting: steps already running on a machine finish (each
// is atomic there), then the command releases its lock, closes its ssh connections, removes its temp folders
// and exits 130. The second aborts at once: the same cleanups run synchronously, running children are
// stopped, and the process exits 130.

const aborters = new Set<() => void>();
let signals = 0;
let installed = false;

/** True once a first Ctrl-C or SIGTERM arrived: start nothing new. */
export const interrupted = () => signals > 0;

/** A synchronous cleanup for the second signal (release a lock, stop children); returns its removal. */
export function onAbort(cleanup: () => void): () => void {
  aborters.add(cleanup);
  return () => aborters.delete(cleanup);
}

export function handleInterrupts(say: (line: string) => void): void {
  if (installed) return;
  installed = true;
  const handler = () => {
    signals++;
    if (signals === 1) {
      say('\nInterrupted: no new step will start; steps already running finish, then everything is released. Press Ctrl-C again to abort now.\n');
      return;
    }
    say('\nAborting.\n');
    for (const cleanup of [...aborters].reverse()) {
      try {
        cleanup();
      } catch {
        // aborting: every other cleanup still runs
      }
    }
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** For tests. */
export function resetInterrupts(): void {
  signals = 0;
}
