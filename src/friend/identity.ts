// The key a friend receives invites with (`peer-provision keygen`): an age X25519 identity in the file age-keygen
// writes (comments, then AGE-SECRET-KEY-1...), so `age -d -i` reads it too. Its public key (age1...) is what the
// friend sends whoever invites them; it is not a secret. The file is the friend's alone: created 0600 in a 0700
// folder, never replaced, and refused when anyone else could read it (as ssh refuses a private key that is too open).
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PeerProvisionError } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { FileRefused, KiB, readRegularFile } from '../peer-yaml/read-file.js';

/** Where peer-provision keeps what belongs to its user rather than to a stack (XDG's config folder). */
export const configDir = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config'), 'peer-provision');

export const identityFile = (env: NodeJS.ProcessEnv = process.env): string => join(configDir(env), 'friend-key.txt');

export interface Identity {
  file: string;
  /** AGE-SECRET-KEY-1...: registered for redaction as soon as it is read. */
  secret: string;
  /** age1...: what an inviter seals to. */
  publicKey: string;
}

const age = () => import('age-encryption');

/** The identity in file; created when there is none (created: true). An existing key is never replaced. */
export async function ensureIdentity(file = identityFile()): Promise<Identity & { created: boolean }> {
  const { generateX25519Identity, identityToRecipient } = await age();
  const secret = await generateX25519Identity();
  registerSecret(secret);
  const publicKey = await identityToRecipient(secret);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const text = `# created: ${new Date().toISOString()} by peer-provision keygen\n# public key: ${publicKey}\n${secret}\n`;
  let fd: number;
  try {
    // O_CREAT|O_EXCL: never over an existing file, nor through a symlink planted at the path
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new PeerProvisionError(`cannot write ${file}: ${(error as Error).message}`);
    if (lstatSync(file).isSymbolicLink() && !existsSync(file))
      throw new PeerProvisionError(
        `${file} is a symlink to nothing: peer-provision does not write your key through a link`,
        `remove it (rm ${file}), then run keygen again`,
      );
    return { ...(await loadIdentity(file)), created: false };
  }
  try {
    writeFileSync(fd, text);
  } catch (error) {
    // the file is ours (just created): a half-written key (disk full) must not stay to be refused later
    rmSync(file, { force: true });
    throw new PeerProvisionError(`cannot write ${file}: ${(error as Error).message}; nothing was kept`);
  } finally {
    closeSync(fd);
  }
  return { file, secret, publicKey, created: true };
}

/** The identity in file, refused (naming the file, never its content) when it is missing, too open or not a key. */
export async function loadIdentity(file = identityFile()): Promise<Identity> {
  let read: { text: string; mode: number };
  try {
    read = readRegularFile(file, 16 * KiB);
  } catch (error) {
    if (!(error instanceof FileRefused)) throw error;
    throw new PeerProvisionError(`${file} ${error.reason}`, error.code === 'ENOENT' ? 'make your key with `peer-provision keygen`' : undefined);
  }
  if (read.mode & 0o077)
    throw new PeerProvisionError(
      `${file} can be read by others (mode ${(read.mode & 0o777).toString(8).padStart(3, '0')}): it holds your private key`,
      `chmod 600 ${file}`,
    );
  const secret = read.text.split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-1'));
  if (!secret)
    throw new PeerProvisionError(
      `${file} holds no age identity (a line AGE-SECRET-KEY-1...)`,
      'move it away and run `peer-provision keygen` for a new key (invites sealed to an old key will not open with it)',
    );
  registerSecret(secret);
  try {
    return { file, secret, publicKey: await (await age()).identityToRecipient(secret) };
  } catch {
    throw new PeerProvisionError(`${file} holds an identity that is not a valid age X25519 key`);
  }
}
