// peer-provision init: writes a commented peer.yaml from --machine NAME=TARGET flags (or asks on a terminal,
// checking each answer as it is given: questions.ts), checks it with the same loader every other command uses,
// and never overwrites an existing file.
import { accessSync, constants, linkSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { stdout } from '../../console/io.js';
import { EXIT, UsageError } from '../../errors.js';
import { problemsInText } from '../../peer-yaml/load.js';
import { MACHINE_FORMAT, MACHINE_NAME, NAME_RULE, STACK_NAME, splitMachine } from './answers.js';
import { askAnswers } from './questions.js';
import { authKeyVar, type InitAnswers, peerYamlText } from './template.js';

interface InitOptions {
  file: string;
  machine?: string[];
  provider?: 'pulumi' | 'provided';
  name?: string;
}

export async function run(options: InitOptions): Promise<number> {
  const file = resolve(options.file);
  const answers = options.machine?.length ? fromFlags(options, file) : await ask(options, file);
  refuseUnwritableFolder(options.file, file);
  const text = peerYamlText(answers);
  checked(text, file);
  try {
    writeExclusive(file, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(options.file);
    throw error;
  }
  const env =
    answers.provider === 'pulumi' ? 'TS_OAUTH_CLIENT_ID=… TS_OAUTH_CLIENT_SECRET=…' : answers.machines.map((m) => `${authKeyVar(m.name)}=…`).join(' ');
  const f = options.file === 'peer.yaml' ? '' : ` -f ${options.file}`;
  stdout(
    `Wrote ${options.file}: stack ${answers.name}, ${answers.machines.length} machines (${answers.machines.map((m) => `${m.name}=${m.target}`).join(', ')}), provider ${answers.provider}.\n` +
      `Next:\n  export ${env}   # the secrets it references (see the comments in the file)\n` +
      `  peer-provision validate${f}      # and what is still missing\n` +
      (answers.provider === 'pulumi' ? `  peer-provision tailnet init${f}   # first run: the tagOwners entries and the OAuth client to create\n` : '') +
      `  peer-provision plan${f}          # read-only: what up would change\n  peer-provision up${f}\n`,
  );
  return EXIT.ok;
}

function fromFlags(options: InitOptions, file: string): InitAnswers {
  const machines = options.machine!.map((spec) => {
    const machine = splitMachine(spec);
    if (!machine) throw new UsageError(`--machine ${spec}: ${MACHINE_FORMAT}`);
    return machine;
  });
  const bad = machines.filter((m) => !MACHINE_NAME.test(m.name)).map((m) => JSON.stringify(m.name));
  if (options.name !== undefined && !STACK_NAME.test(options.name)) bad.push(`--name ${JSON.stringify(options.name)}`);
  if (bad.length) throw new UsageError(`init: ${bad.join(', ')}: names are ${NAME_RULE}; nothing was written`);
  return { name: options.name ?? stackNameFor(file), provider: options.provider ?? 'pulumi', machines };
}

/** The folder's name as a stack name (lowercase letters, digits, dashes, at most 32), or "peers". */
export function stackNameFor(file: string): string {
  const name = basename(dirname(file))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-') // one dash for any run of others: "--" is never in a stack name
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return name || 'peers';
}

/** On a terminal: what keeps the file from being written is said before the first question, not after the last. */
async function ask(options: InitOptions, file: string): Promise<InitAnswers> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(
      'init needs machines: pass --machine NAME=TARGET (at least two), or run it on a terminal to be asked',
      'e.g. peer-provision init --machine laptop=local --machine server=me@host:2222',
    );
  }
  if (options.name !== undefined && !STACK_NAME.test(options.name)) {
    throw new UsageError(`init: --name ${JSON.stringify(options.name)}: names are ${NAME_RULE}; nothing was asked`);
  }
  if (exists(file)) throw alreadyExists(options.file);
  refuseUnwritableFolder(options.file, file);
  return askAnswers(file, options.name ?? stackNameFor(file));
}

const alreadyExists = (shown: string) =>
  new UsageError(`${shown} already exists: init never overwrites it`, 'edit it, or pass -f NEW_PATH to write another one');

/** Anything at the path, a dangling symlink too (linking over it would fail as well). */
function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The folder must be there and writable: said plainly (it was a stack trace: "ENOENT ... mkdtemp"). */
function refuseUnwritableFolder(shown: string, file: string): void {
  const folder = dirname(shown);
  const fix = 'pass -f PATH to a file in a folder that exists and you can write to (or create the folder first)';
  try {
    if (!statSync(dirname(file)).isDirectory()) throw new UsageError(`${folder}: not a folder: init cannot write ${basename(shown)} there`, fix);
    accessSync(dirname(file), constants.W_OK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`${folder}: no such folder: init cannot write ${basename(shown)} there`, fix);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new UsageError(`${folder}: cannot write there (${code === 'EROFS' ? 'read-only file system' : 'permission denied'})`, fix);
    }
    throw error;
  }
}

/** The text through the real loader: a problem is reported (exit 2) and nothing is written. */
function checked(text: string, file: string): void {
  const problems = problemsInText(file, text);
  if (problems.length > 0) {
    throw new UsageError(
      `init: these answers do not make a valid peer.yaml; nothing was written:\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`,
    );
  }
}

/** Written beside the target, then linked into place: link fails when the file exists, so nothing is ever overwritten. */
function writeExclusive(file: string, text: string): void {
  const dir = mkdtempSync(join(dirname(file), '.peer-provision-init-'));
  try {
    const temp = join(dir, 'peer.yaml');
    writeFileSync(temp, text, { mode: 0o644 });
    linkSync(temp, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
