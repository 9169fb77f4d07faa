// One up or down at a time per stack, on the machine running the tool: a lock file beside the stack's state,
// holding who took it. It appears whole or not at all (written aside, then hard-linked into place), so a
// crash never leaves an empty lock; a lock whose process is gone, or an unreadable one older than a minute
// (left by an older version), is taken over.
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { PeerProvisionError } from '../errors.js';
import { onAbort } from '../interrupt.js';
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

export function lockStack(spec: Spec, command: string): () => void {
  const path = join(dirname(spec.file), 'stacks', spec.name, 'lock');
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
      const stale = holder
        ? holder.host === me.host && !alive(holder.pid)
        : Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) > STALE_UNREADABLE_MS;
      if (stale) {
        rmSync(path, { force: true });
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
