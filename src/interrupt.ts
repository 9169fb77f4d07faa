// Ctrl-C and SIGTERM. The first stops new steps from starting: steps already running on a machine finish (each
// is atomic there), then the command releases its lock, closes its ssh connections, removes its temp folders
// and exits 130. The second aborts at once: the same cleanups run synchronously, running children are
// stopped, and the process exits 130. The cleanups also run when the process ends any other way before its own
// cleanup ran: an exit (process.exit, an uncaught exception) or a closed terminal (SIGHUP), which would otherwise
// leave temp files holding secrets, a held lock, and children in process groups of their own, behind.

const aborters = new Set<() => void>();
let signals = 0;
let installed = false;
let watchingEnd = false;

/** True once a first Ctrl-C or SIGTERM arrived: start nothing new. */
export const interrupted = () => signals > 0;

/**
 * A synchronous cleanup (release a lock, stop children, remove a temp file) for when the run ends before its own
 * cleanup: a second signal, an exit, a hangup. Returns its removal, for when the run cleaned up itself.
 */
export function onAbort(cleanup: () => void): () => void {
  if (!watchingEnd) {
    watchingEnd = true;
    process.on('exit', runCleanups);
    process.on('SIGHUP', onHangup);
  }
  aborters.add(cleanup);
  return () => aborters.delete(cleanup);
}

/** Each cleanup once, the latest first. */
function runCleanups(): void {
  const cleanups = [...aborters].reverse();
  aborters.clear();
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // ending: every other cleanup still runs
    }
  }
}

/** A closed terminal ends the process without an 'exit' event: clean up, then end of the signal as it would have. */
function onHangup(): void {
  runCleanups();
  process.off('SIGHUP', onHangup);
  if (process.listenerCount('SIGHUP') === 0) process.kill(process.pid, 'SIGHUP');
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
    runCleanups();
    process.exit(130);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** For tests. */
export function resetInterrupts(): void {
  signals = 0;
}
