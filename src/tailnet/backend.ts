// Where a stack's state lives and how its secrets are encrypted.
// Default: a local file backend in <dir of peer.yaml>/stacks/<name>/ (folders 0700, files 0600), secrets encrypted
// with a passphrase from PULUMI_CONFIG_PASSPHRASE(_FILE) or generated once and kept 0600 in that folder.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Spec } from '../spec/types.js';
import { TailnetError } from './errors.js';

export const PROJECT_NAME = 'peer-provision';

export interface StackLocation {
  projectName: string;
  stackName: string;
  backendUrl: string;
  /** <dir of peer.yaml>/stacks/<name>: the state (default backend) and a generated passphrase live here. */
  stateDir: string;
  /** The state is in stateDir (no tailnet.backend override). */
  local: boolean;
  /** Pulumi Cloud (http/https backends) keeps its own secrets; every other backend uses a passphrase. */
  usesPassphrase: boolean;
}

export function stackLocation(spec: Spec): StackLocation {
  const stateDir = join(dirname(spec.file), 'stacks', spec.name);
  const backend = spec.tailnet.backend;
  return {
    projectName: PROJECT_NAME,
    stackName: spec.name,
    backendUrl: backend ?? pathToFileURL(stateDir).href,
    stateDir,
    local: backend === undefined,
    usesPassphrase: backend === undefined || !/^https?:\/\//i.test(backend),
  };
}

export const passphraseFile = (loc: StackLocation) => join(loc.stateDir, 'passphrase');

/**
 * The environment a stack's Pulumi CLI needs for its secrets (never argv). `create`: generate the passphrase when
 * there is none yet (up); without it a missing passphrase is an error (down of an existing stack needs the old one).
 */
export async function secretsEnv(
  loc: StackLocation,
  create: boolean,
  redact: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ env: Record<string, string>; secretsProvider?: string }> {
  if (loc.local && create) await ensureDir(loc.stateDir);
  if (!loc.usesPassphrase) return { env: {} };
  if (env.PULUMI_CONFIG_PASSPHRASE) {
    redact(env.PULUMI_CONFIG_PASSPHRASE);
    return { env: { PULUMI_CONFIG_PASSPHRASE: env.PULUMI_CONFIG_PASSPHRASE }, secretsProvider: 'passphrase' };
  }
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) return { env: { PULUMI_CONFIG_PASSPHRASE_FILE: env.PULUMI_CONFIG_PASSPHRASE_FILE }, secretsProvider: 'passphrase' };
  const file = passphraseFile(loc);
  let pass: string | undefined;
  try {
    pass = (await readFile(file, 'utf8')).trim() || undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new TailnetError(`cannot read the stack passphrase ${file}: ${(e as Error).message}`);
  }
  if (!pass) {
    if (!create)
      throw new TailnetError(`the stack's passphrase is missing (${file})`, 'Set PULUMI_CONFIG_PASSPHRASE to the passphrase the stack was created with.');
    await ensureDir(loc.stateDir);
    pass = randomBytes(32).toString('base64url');
    try {
      await writeFile(file, `${pass}\n`, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      pass = (await readFile(file, 'utf8')).trim(); // a concurrent run won the race
    }
  }
  redact(pass);
  return { env: { PULUMI_CONFIG_PASSPHRASE: pass }, secretsProvider: 'passphrase' };
}

async function ensureDir(dir: string) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Folders 0700, files 0600, under dir (the Pulumi CLI writes state with its own modes). Best effort. */
export async function hardenTree(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
    await chmod(dir, 0o700);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await hardenTree(p);
    else if (e.isFile()) await chmod(p, 0o600).catch(() => {});
  }
}
