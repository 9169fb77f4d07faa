// Resolving SecretRefs, in memory, at the moment they are needed.

import { SecretError } from '../errors.js';
import { registerSecret } from '../model/redact.js';
import { FileRefused, KiB, readRegularFile } from './read-file.js';
import type { SecretRef, TailnetSpec } from './types.js';

/** A secret file is a few hundred bytes; anything bigger (or /dev/zero, a FIFO) is not one. */
export const MAX_SECRET_FILE_BYTES = 64 * KiB;

/** Names a ref without its value, for messages. */
export const describeRef = (ref: SecretRef): string =>
  ref.kind === 'env' ? `environment variable ${ref.name}` : ref.kind === 'file' ? `file ${ref.path}` : ref.kind === 'given' ? ref.from : 'a generated secret';

/**
 * env → process.env, file → the file's content trimmed, registered for redaction as it is read (model/redact.ts: a
 * secret is registered where it enters the process). Throws a SecretError naming the ref when it is missing or empty.
 */
export function resolveSecret(ref: SecretRef, what = 'secret', env: NodeJS.ProcessEnv = process.env): string {
  if (ref.kind === 'env') {
    const v = env[ref.name]?.trim();
    if (!v) throw new SecretError(`${what}: ${describeRef(ref)} is not set`, `Set ${ref.name} before running, or point the spec at a file.`);
    return registerSecret(v);
  }
  if (ref.kind === 'file') {
    let text: string;
    try {
      text = readRegularFile(ref.path, MAX_SECRET_FILE_BYTES).text;
    } catch (e) {
      if (!(e instanceof FileRefused)) throw e;
      throw new SecretError(e.code ? `${what}: cannot read ${describeRef(ref)} (${e.code}): it ${e.reason}` : `${what}: ${describeRef(ref)} ${e.reason}`);
    }
    const v = text.trim();
    if (!v) throw new SecretError(`${what}: ${describeRef(ref)} is empty`);
    return registerSecret(v);
  }
  if (ref.kind === 'given') return registerSecret(ref.value);
  throw new SecretError(`${what}: a generated secret cannot be used here`, 'Give an env or file reference.');
}

export type TailnetCredentials = { kind: 'oauth'; clientId: string; clientSecret: string } | { kind: 'apiKey'; apiKey: string };

/**
 * The Tailscale API credentials of the spec, resolved. OAuth client credentials win when both are given
 * (they are the recommended kind: scoped, and not tied to a user). Each value is registered by resolveSecret.
 */
export function resolveCredentials(tailnet: TailnetSpec, env: NodeJS.ProcessEnv = process.env): TailnetCredentials {
  const c = tailnet.credentials ?? {};
  if (c.oauthClientId || c.oauthClientSecret) {
    if (!c.oauthClientId || !c.oauthClientSecret) throw new SecretError('tailnet.credentials: an OAuth client needs both oauthClientId and oauthClientSecret');
    const clientId = resolveSecret(c.oauthClientId, 'tailnet.credentials.oauthClientId', env);
    const clientSecret = resolveSecret(c.oauthClientSecret, 'tailnet.credentials.oauthClientSecret', env);
    return { kind: 'oauth', clientId, clientSecret };
  }
  if (c.apiKey) {
    const apiKey = resolveSecret(c.apiKey, 'tailnet.credentials.apiKey', env);
    return { kind: 'apiKey', apiKey };
  }
  throw new SecretError(
    'tailnet.credentials: no Tailscale API credentials given',
    'Create an OAuth client (scopes: auth_keys, devices:core, policy_file) and reference its id and secret.',
  );
}
