// Where a stack's state lives and how its secrets are encrypted.
// Default: a local file backend in <dir of peer.yaml>/stacks/<name>/ (folders 0700, files 0600), secrets encrypted
// with a passphrase from PULUMI_CONFIG_PASSPHRASE(_FILE) or generated once and kept 0600 in that folder.

import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { chmod, link, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Spec } from '../peer-yaml/types.js';
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
 * The environment a stack's Pulumi CLI needs for its secrets (never argv). `create`: the stack does not exist yet, so
 * a passphrase may be generated. For an existing stack a passphrase is never generated: it must be the one the stack
 * was created with (PULUMI_CONFIG_PASSPHRASE(_FILE) or the file kept here); a new one would only make Pulumi report a
 * wrong passphrase, and would stay behind as the wrong file.
 */
export async function secretsEnv(
  loc: StackLocation,
  create: boolean,
  redact: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ env: Record<string, string>; secretsProvider?: string }> {
  if (create) await ensureStateDir(loc);
  if (!loc.usesPassphrase) return { env: {} };
  if (env.PULUMI_CONFIG_PASSPHRASE) {
    redact(env.PULUMI_CONFIG_PASSPHRASE);
    return { env: { PULUMI_CONFIG_PASSPHRASE: env.PULUMI_CONFIG_PASSPHRASE }, secretsProvider: 'passphrase' };
  }
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    await readPassphrase(env.PULUMI_CONFIG_PASSPHRASE_FILE, 'PULUMI_CONFIG_PASSPHRASE_FILE'); // fail now, not mid-run
    return { env: { PULUMI_CONFIG_PASSPHRASE_FILE: env.PULUMI_CONFIG_PASSPHRASE_FILE }, secretsProvider: 'passphrase' };
  }
  const file = passphraseFile(loc);
  let pass = await readPassphrase(file, undefined).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (pass === undefined) {
    if (!create)
      throw new TailnetError(
        `the stack ${loc.stackName} exists but its passphrase is missing (${file})`,
        'Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase the stack was created with, or put it back in that file.',
      );
    pass = await createPassphraseFile(file);
  }
  redact(pass);
  return { env: { PULUMI_CONFIG_PASSPHRASE: pass }, secretsProvider: 'passphrase' };
}

/** Reads a passphrase file: an empty one is an error, never an empty passphrase. ENOENT is passed through. */
async function readPassphrase(file: string, variable: string | undefined): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !variable) throw err;
    throw new TailnetError(`cannot read the stack passphrase ${file}${variable ? ` (${variable})` : ''}: ${err.message}`);
  }
  const pass = text.replace(/\r?\n$/, '');
  if (!pass.trim())
    throw new TailnetError(
      `the stack passphrase file ${file} is empty`,
      'Put the passphrase the stack was created with in it, or remove the file if the stack was never created.',
    );
  return pass;
}

/** A new random passphrase, written atomically (temp file, then link: never a half-written or replaced file). */
async function createPassphraseFile(file: string): Promise<string> {
  const pass = randomBytes(32).toString('base64url');
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${pass}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp, file); // fails with EEXIST instead of replacing a passphrase another run just wrote
      return pass;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return await readPassphrase(file, undefined); // a concurrent run won the race
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** The state folder (0700) with a .gitignore that keeps the passphrase and state out of a commit of the project. */
export async function ensureStateDir(loc: StackLocation): Promise<void> {
  await ensureDir(loc.stateDir);
  await writeFile(join(loc.stateDir, '.gitignore'), GITIGNORE, { mode: 0o600, flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}
const GITIGNORE = '# peer-provision: this folder holds the stack passphrase and Pulumi state. Never commit it.\n*\n';

async function ensureDir(dir: string) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** Folders 0700, files 0600, under dir (the Pulumi CLI writes state with its own modes). Best effort. */
export async function hardenTree(dir: string): Promise<void> {
  let entries: Dirent[];
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

// ---------------------------------------------------------------------------------------------------------------------
// What this stack added to the policy's tagOwners. Tailscale keeps no author per entry, and a user may write the same
// entries by hand (peer-provision tailnet init prints them): only entries recorded here are ever removed by `down`.

export const policyRecordFile = (loc: StackLocation) => join(loc.stateDir, 'policy-owned.json');

export async function readPolicyRecord(loc: StackLocation): Promise<Set<string>> {
  try {
    const v = JSON.parse(await readFile(policyRecordFile(loc), 'utf8')) as { tagOwners?: unknown };
    return new Set(Array.isArray(v.tagOwners) ? v.tagOwners.filter((t): t is string => typeof t === 'string') : []);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw new TailnetError(
      `cannot read ${policyRecordFile(loc)}: ${(e as Error).message}`,
      'Remove the file to treat every tagOwners entry as yours (down then keeps them all).',
    );
  }
}

/** Atomic (temp file + rename), 0600; an empty record removes the file. */
export async function writePolicyRecord(loc: StackLocation, tags: Set<string>): Promise<void> {
  const file = policyRecordFile(loc);
  if (tags.size === 0) return unlink(file).catch(() => {});
  await ensureStateDir(loc);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ version: 1, tagOwners: [...tags].sort() }, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
