// Shared by the tests: the repo root, temp folders, and running the real CLI as a user would.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const CLI = join(ROOT, 'bin/peer-provision.js');

export function tempDir(prefix = 'pp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a peer.yaml (or any file) into a fresh temp folder and returns its path. */
export function writeTemp(text: string, name = 'peer.yaml'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, text);
  return path;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** The full path of a command on PATH (for tests that run the CLI with a narrowed PATH). */
export async function which(command: string): Promise<string> {
  return new Promise((done, fail) =>
    execFile('sh', ['-c', 'command -v "$1"', 'sh', command], (error, stdout) => (error ? fail(new Error(`${command} is not on PATH`)) : done(stdout.trim()))),
  );
}
