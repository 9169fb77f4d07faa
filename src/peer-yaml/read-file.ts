// Reading a file a user named (peer.yaml, a file: secret) without trusting what it is: /dev/zero, a FIFO,
// a directory or a 6 GB log must be refused at once, not read until memory runs out or forever.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Why a file cannot be used; the message completes "<file> ..." and never holds the file's content. */
export class FileRefused extends Error {
  constructor(
    readonly reason: string,
    readonly code?: string,
  ) {
    super(reason);
  }
}

export interface RegularFile {
  text: string;
  /** Permission bits (mode & 0o777). */
  mode: number;
}

const size = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`);

/**
 * The content of a regular file of at most maxBytes. Opened non-blocking (a FIFO does not wait for a
 * writer), checked with fstat on the open descriptor (no race with a swapped path), then read with a
 * hard cap (a file that grows while read is still refused).
 */
export function readRegularFile(path: string, maxBytes: number): RegularFile {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileRefused('does not exist', code);
    if (code === 'EACCES' || code === 'EPERM') throw new FileRefused('cannot be read (permission denied)', code);
    if (code === 'ENOTDIR') throw new FileRefused('does not exist (a part of its path is not a folder)', code);
    if (code === 'ELOOP') throw new FileRefused('is a symlink loop', code);
    throw new FileRefused(`cannot be opened (${code ?? (error as Error).message})`, code);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new FileRefused('is a directory, not a file');
    if (!stat.isFile()) throw new FileRefused('is not a regular file (a device, FIFO or socket)');
    if (stat.size > maxBytes) throw new FileRefused(`is larger than ${size(maxBytes)}`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw new FileRefused(`is larger than ${size(maxBytes)}`);
    }
    return { text: buffer.subarray(0, length).toString('utf8'), mode: stat.mode & 0o777 };
  } catch (error) {
    if (error instanceof FileRefused) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileRefused(`cannot be read (${code ?? (error as Error).message})`, code);
  } finally {
    closeSync(fd);
  }
}
