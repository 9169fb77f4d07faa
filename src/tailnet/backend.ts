// Where a stack's state lives and how its secrets are encrypted.
// Default: a local file backend in <dir of peer.yaml>/stacks/<name>/ (folders 0700, files 0600), secrets encrypted
// with a passphrase from PULUMI_CONFIG_PASSPHRASE(_FILE) or generated once and kept 0600 in that folder.

import { randomBytes } from 'node:crypto';
import { type Dirent, rmSync } from 'node:fs';
import { chmod, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { onAbort } from '../interrupt.js';
import { registerSecret } from '../model/redact.js';
import { stackDir } from '../model/stack-dir.js';
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
  const stateDir = stackDir(spec);
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
 *
 * Which one is decided exactly as the Pulumi CLI (v3.248.0, pkg/secrets/passphrase/manager.go readPassphrase) decides,
 * because the CLI inherits this process's environment (the Automation API adds ours to it, and cannot unset a
 * variable): PULUMI_CONFIG_PASSPHRASE whenever it is set, an empty value included; else the file
 * PULUMI_CONFIG_PASSPHRASE_FILE names, when set and not empty. Whatever we pick, the CLI then picks the same. An
 * empty passphrase is refused, never used, and never passed over for the file or ours: either would be a different
 * passphrase from the one a user of the Pulumi CLI gets in the same shell.
 */
export async function secretsEnv(
  loc: StackLocation,
  create: boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ env: Record<string, string>; secretsProvider?: string }> {
  if (create) await ensureStateDir(loc);
  if (!loc.usesPassphrase) return { env: {} };
  const given = env.PULUMI_CONFIG_PASSPHRASE;
  if (given !== undefined) {
    if (given === '') throw emptyPassphraseVariable(loc, env);
    return { env: { PULUMI_CONFIG_PASSPHRASE: registerSecret(given) }, secretsProvider: 'passphrase' };
  }
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    // Pulumi resolves a relative path against its own working directory (the workspace folder): hand it the file
    // checked here, which is the one the user meant.
    const file = resolve(env.PULUMI_CONFIG_PASSPHRASE_FILE);
    await readPassphrase(file, 'PULUMI_CONFIG_PASSPHRASE_FILE'); // fail now, not mid-run
    return { env: { PULUMI_CONFIG_PASSPHRASE_FILE: file }, secretsProvider: 'passphrase' };
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
  return { env: { PULUMI_CONFIG_PASSPHRASE: registerSecret(pass) }, secretsProvider: 'passphrase' };
}

/**
 * For a stack not created yet, before anything is touched: the passphrase the variables give (the one Pulumi would
 * use) is usable. Nothing is generated or written; the stack's own file is made when the stack is.
 */
export async function checkPassphraseVariables(loc: StackLocation, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!loc.usesPassphrase) return;
  if (env.PULUMI_CONFIG_PASSPHRASE === '') throw emptyPassphraseVariable(loc, env);
  if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE)
    await readPassphrase(resolve(env.PULUMI_CONFIG_PASSPHRASE_FILE), 'PULUMI_CONFIG_PASSPHRASE_FILE');
}

function emptyPassphraseVariable(loc: StackLocation, env: NodeJS.ProcessEnv): TailnetError {
  const instead = env.PULUMI_CONFIG_PASSPHRASE_FILE ? 'PULUMI_CONFIG_PASSPHRASE_FILE' : `the stack's passphrase file (${passphraseFile(loc)})`;
  return new TailnetError(
    `PULUMI_CONFIG_PASSPHRASE is set but empty: the Pulumi CLI would encrypt the stack's secrets with that empty passphrase instead of ${instead}`,
    'Unset it (`unset PULUMI_CONFIG_PASSPHRASE`: unset, not empty) to use PULUMI_CONFIG_PASSPHRASE_FILE or the stack ' +
      'passphrase file, or set it to the passphrase the stack was created with. peer-provision never uses an empty passphrase.',
  );
}

/** What Go's unicode.IsSpace counts as space (JavaScript's trim also drops U+FEFF and keeps U+0085). */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
/** Go's strings.TrimSpace, which Pulumi applies to a passphrase file. */
const goTrimSpace = (s: string) => s.replace(new RegExp(`^${GO_SPACE}|${GO_SPACE}$`, 'g'), '');

/**
 * Reads a passphrase file as Pulumi reads PULUMI_CONFIG_PASSPHRASE_FILE (the content, strings.TrimSpace'd), so the
 * stack's own file gives the same passphrase when a user points that variable at it. An empty one is an error, never
 * an empty passphrase. ENOENT is passed through.
 */
async function readPassphrase(file: string, variable: string | undefined): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' && !variable) throw err;
    throw new TailnetError(`cannot read the stack passphrase ${file}${variable ? ` (${variable})` : ''}: ${err.message}`);
  }
  const pass = goTrimSpace(text);
  if (!pass)
    throw new TailnetError(
      `the stack passphrase file ${file} is empty`,
      'Put the passphrase the stack was created with in it, or remove the file if the stack was never created.',
    );
  return pass;
}

/**
 * A temp file beside `file`, for writing it whole. Removed by remove(), or by the abort path when the run ends first
 * (a second Ctrl-C or SIGTERM exits without running `finally`; so do an exit and a hangup): the passphrase's would
 * stay behind, a second copy of it.
 */
function tempBeside(file: string): { path: string; remove: () => Promise<void> } {
  const path = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const forget = onAbort(() => rmSync(path, { force: true }));
  return {
    path,
    remove: async () => {
      await rm(path, { force: true }).catch(() => {});
      forget();
    },
  };
}

/** A new random passphrase, written atomically (temp file, then link: never a half-written or replaced file). */
async function createPassphraseFile(file: string): Promise<string> {
  const pass = randomBytes(32).toString('base64url');
  const tmp = tempBeside(file);
  try {
    await writeFile(tmp.path, `${pass}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(tmp.path, file); // fails with EEXIST instead of replacing a passphrase another run just wrote
      return pass;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      return await readPassphrase(file, undefined); // a concurrent run won the race
    }
  } finally {
    await tmp.remove();
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
// What this stack added to the policy: tagOwners entries by tag, grants and tests by content (policy/recognise.ts entryId).
// Tailscale keeps no author per entry, and a user may write the same entries by hand (peer-provision tailnet init
// prints them) or their own grant between this stack's tags: only entries recorded here are ever changed or removed.

export const policyRecordFile = (loc: StackLocation) => join(loc.stateDir, 'policy-owned.json');

/** grants/tests undefined: a record from before they were kept (every entry of the stack's shape counts, as then). */
export interface PolicyRecord {
  tagOwners: Set<string>;
  grants?: Set<string>;
  tests?: Set<string>;
}

export async function readPolicyRecord(loc: StackLocation): Promise<PolicyRecord> {
  try {
    const v = JSON.parse(await readFile(policyRecordFile(loc), 'utf8')) as Record<string, unknown>;
    const list = (x: unknown) => (Array.isArray(x) ? new Set(x.filter((t): t is string => typeof t === 'string')) : undefined);
    return { tagOwners: list(v.tagOwners) ?? new Set(), grants: list(v.grants), tests: list(v.tests) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(loc, e);
    // no record: a new stack has written nothing (an empty record); a state folder without one is a stack whose
    // earlier up recorded nothing, its grants and tests then of the stack's shape (unknown: the old rule applies)
    const earlier = await stat(loc.stateDir).then(
      () => true,
      () => false,
    );
    return earlier ? { tagOwners: new Set() } : { tagOwners: new Set(), grants: new Set(), tests: new Set() };
  }
}

// Without the file the stack counts as one recorded before grants and tests were (readPolicyRecord): no tagOwners
// entry is its own, every grant and test of its shape is.
const unreadable = (loc: StackLocation, e: unknown) =>
  new TailnetError(
    `cannot read ${policyRecordFile(loc)}: ${(e as Error).message}`,
    'Remove the file to treat every tagOwners entry as yours (down then keeps them all) and every grant and test of the ' +
      "stack's shape (between its tags, one TCP port) as the stack's (down then removes them, one of yours of that shape included).",
  );

/** The record as it is written, observed and compared: each set as a sorted list; grants and tests absent if not recorded. */
export function recordBody(record: PolicyRecord): { tagOwners: string[]; grants?: string[]; tests?: string[] } {
  const sorted = (x: Set<string>) => [...x].sort();
  return { tagOwners: sorted(record.tagOwners), grants: record.grants && sorted(record.grants), tests: record.tests && sorted(record.tests) };
}

/** Atomic (temp file + rename), 0600. A record of nothing stays as a file: it says that nothing is ours. */
export async function writePolicyRecord(loc: StackLocation, record: PolicyRecord): Promise<void> {
  const file = policyRecordFile(loc);
  await ensureStateDir(loc);
  const tmp = tempBeside(file);
  const body = { version: 1, ...recordBody(record) };
  try {
    await writeFile(tmp.path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(tmp.path, file);
  } finally {
    await tmp.remove();
  }
}

export const samePolicyRecord = (a: PolicyRecord, b: PolicyRecord): boolean => JSON.stringify(recordBody(a)) === JSON.stringify(recordBody(b));
