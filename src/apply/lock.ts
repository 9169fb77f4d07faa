// One up or down at a time per stack, on the machine running the tool: a lock file created exclusively
// beside the stack's state, holding who took it. A lock whose process is gone is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { PeerProvisionError } from '../errors.js';
import type { Spec } from '../spec/types.js';

export class LockedError extends PeerProvisionError {}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export function lockStack(spec: Spec, command: string): () => void {
  const path = join(dirname(spec.file), 'stacks', spec.name, 'lock');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const me = { pid: process.pid, host: hostname(), user: userInfo().username, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: typeof me | undefined;
      try {
        holder = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        holder = undefined;
      }
      if (holder && holder.host === me.host && !alive(holder.pid)) {
        rmSync(path, { force: true }); // its process is gone: a stale lock
        continue;
      }
      throw new LockedError(
        `stack ${spec.name} is locked by ${holder ? `${holder.user}@${holder.host} pid ${holder.pid} (${holder.command}, since ${holder.since})` : 'another run'}`,
        `wait for it to finish; if it is gone, remove ${path}`,
      );
    }
  }
  throw new LockedError(`stack ${spec.name}: could not take the lock at ${path}`);
}
