// One up or down at a time per stack, on the machine running the tool: a lock file beside the stack's state,
// holding who took it. It appears whole or not at all (written aside, then hard-linked into place), so a
// crash never leaves an empty lock; a lock whose process is gone, or an unreadable one older than a minute
// (left by an older version), is taken over, by one run only: the takeover itself holds a lock of its own (a
// folder, made atomically), and re-reads the holder under it.
import { linkSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { PeerProvisionError } from '../errors.js';
import { onAbort } from '../interrupt.js';
import { stackDir } from '../model/stack-dir.js';
import type { Spec } from '../peer-yaml/types.js';

export class LockedError extends PeerProvisionError {}

const STALE_UNREADABLE_MS = 60_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

interface Holder {
  pid: number;
  host: string;
  user: string;
  command: string;
  since: string;
}

const cannot = (path: string, error: unknown) =>
  new PeerProvisionError(
    `cannot take the lock ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    'the stack folder next to peer.yaml must be writable, on a disk that is not full',
  );

function readHolder(path: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return typeof holder.pid === 'number' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Creates path with content, failing with EEXIST when it is there: link(2) is atomic where O_EXCL+write is not. */
function createWhole(path: string, content: string): void {
  const aside = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(aside, content, { mode: 0o600 });
    try {
      linkSync(aside, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      writeFileSync(path, content, { flag: 'wx', mode: 0o600 }); // a filesystem without hard links
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

const isStale = (path: string, holder: Holder | undefined, host: string) =>
  holder ? holder.host === host && !alive(holder.pid) : Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > STALE_UNREADABLE_MS;

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Removes a stale lock while holding `<lock>.takeover`; false when another run holds that (a takeover left by a crash expires). */
export function takeOver(path: string, host: string): boolean {
  const guard = `${path}.takeover`;
  try {
    mkdirSync(guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(path, error);
    const age = Date.now() - (statSync(guard, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_UNREADABLE_MS) rmSync(guard, { recursive: true, force: true });
    return false;
  }
  try {
    if (isStale(path, readHolder(path), host)) rmSync(path, { force: true });
    return true;
  } finally {
    rmdirSync(guard);
  }
}

export function lockStack(spec: Spec, command: string): () => void {
  const path = join(stackDir(spec), 'lock');
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw cannot(path, error);
  }
  const me: Holder = { pid: process.pid, host: hostname(), user: userInfo().username, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      createWhole(path, JSON.stringify(me));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(path, error);
      const holder = readHolder(path);
      if (isStale(path, holder, me.host)) {
        // Two runs can both find the lock stale: without this, the second removed the lock the first had just
        // taken, and both ran. Under the takeover lock the holder is read again: the stale one, or the winner's.
        if (takeOver(path, me.host)) continue;
        attempt--; // another run is taking it over: look again once it is done
        sleep(50);
        continue;
      }
      throw new LockedError(
        `stack ${spec.name} is locked by ${holder ? `${holder.user}@${holder.host} pid ${holder.pid} (${holder.command}, since ${holder.since})` : 'another run (its lock file is being written)'}`,
        `wait for it to finish; if it is gone, remove ${path}`,
      );
    }
    // released when the command ends, or at once when a second Ctrl-C aborts it
    const release = () => {
      if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
    };
    const forget = onAbort(release);
    return () => {
      forget();
      release();
    };
  }
  throw new LockedError(`stack ${spec.name}: could not take the lock at ${path}`);
}
