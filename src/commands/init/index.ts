// peer-provision init: writes a commented peer.yaml from --machine NAME=TARGET flags (or asks on a terminal),
// checks it with the same loader every other command uses, and never overwrites an existing file.
import { linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { EXIT, InputError, UsageError } from '../../errors.js';
import { ask as askLine } from '../../output/ask.js';
import { stderr, stdout } from '../../output/io.js';
import { loadSpec } from '../../peer-yaml/load.js';
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
  const text = peerYamlText(answers);
  checked(text, file);
  try {
    writeExclusive(file, text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${options.file} already exists: init never overwrites it`, 'edit it, or pass -f NEW_PATH to write another one');
    }
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
    const eq = spec.indexOf('=');
    if (eq < 1 || eq === spec.length - 1) throw new UsageError(`--machine ${spec}: expected NAME=TARGET, e.g. laptop=local or server=me@host:2222`);
    return { name: spec.slice(0, eq), target: spec.slice(eq + 1) };
  });
  // Names become YAML keys as they are: only what the schema allows gets that far (no injection through a name).
  const bad = machines.filter((m) => !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(m.name)).map((m) => JSON.stringify(m.name));
  if (options.name !== undefined && !/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/.test(options.name)) bad.push(`--name ${JSON.stringify(options.name)}`);
  if (bad.length)
    throw new UsageError(
      `init: ${bad.join(', ')}: names are lowercase letters, digits and dashes (a machine at most 63, the stack at most 32); nothing was written`,
    );
  return { name: options.name ?? stackNameFor(file), provider: options.provider ?? 'pulumi', machines };
}

/** The folder's name as a stack name (lowercase letters, digits, dashes, at most 32), or "peers". */
export function stackNameFor(file: string): string {
  const name = basename(dirname(file))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return name || 'peers';
}

async function ask(options: InitOptions, file: string): Promise<InitAnswers> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError(
      'init needs machines: pass --machine NAME=TARGET (at least two), or run it on a terminal to be asked',
      'e.g. peer-provision init --machine laptop=local --machine server=me@host:2222',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    stderr('Machines to peer, one per line as NAME=TARGET (TARGET: local, user@host[:port] or an ssh alias); an empty line ends.\n');
    const machines: string[] = [];
    for (;;) {
      const answer = await askLine(rl, `machine ${machines.length + 1}: `);
      if (answer === undefined && machines.length < 2) throw new UsageError('init: the input ended before two machines were given; nothing was written');
      const line = (answer ?? '').trim();
      if (!line) {
        if (machines.length >= 2) break;
        stderr('at least two machines\n');
        continue;
      }
      machines.push(line);
    }
    const provider =
      (
        (await askLine(
          rl,
          'Tailscale keys: pulumi (minted for you, needs the Pulumi CLI and an OAuth client) or provided (one auth key per machine) [pulumi]: ',
        )) ?? ''
      ).trim() || 'pulumi';
    if (provider !== 'pulumi' && provider !== 'provided') throw new UsageError(`provider ${provider}: expected pulumi or provided`);
    return fromFlags({ ...options, machine: machines, provider }, file);
  } finally {
    rl.close();
  }
}

/** The text through the real loader: a problem is reported (exit 2) and nothing is written. */
function checked(text: string, file: string): void {
  const dir = mkdtempSync(join(dirname(file), '.peer-provision-init-'));
  try {
    const probe = join(dir, basename(file));
    writeFileSync(probe, text, { mode: 0o600 });
    loadSpec(probe);
  } catch (error) {
    if (error instanceof InputError) {
      throw new UsageError(
        `init: these answers do not make a valid peer.yaml; nothing was written:\n${error.problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`,
      );
    }
    throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
