// peer.yaml -> Spec: parse, check structure, check rules, then fill in defaults. Throws InputError with
// every problem at once (the structure's and the rules', in the file's order); never touches anything but the
// file itself.
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { InputError, type Problem } from '../errors.js';
import { durationSeconds } from './duration.js';
import { locate, type ParsedFile, parsePeerFile, parsePeerText } from './parse.js';
import { pastedKeys } from './pasted-keys.js';
import { aboutLeftOut, ruleInput } from './rule-input.js';
import { type RawSpec, ruleProblems } from './rules.js';
import { checkSchema } from './schema-check.js';
import {
  DEFAULT_A2A_RATE_LIMIT,
  DEFAULT_GATEWAY_PORT,
  DEFAULT_INSTALL_URL,
  legacyMachineTag,
  type MachineSpec,
  machineTag,
  ownerTag,
  type SecretRef,
  type Spec,
  type SshTarget,
  stackTag,
} from './types.js';

export const DEFAULT_KEY_EXPIRY = '1h';

// Which file and where in it each Spec came from, so later checks (secrets, tokens found on a machine) can
// point at FILE:LINE:COL too. Kept beside the Spec, not in it: the Spec stays plain data.
const sources = new WeakMap<Spec, ParsedFile>();

export function loadSpec(file: string): Spec {
  const path = resolve(file);
  const parsed = parsePeerFile(path);
  const problems = problemsIn(parsed);
  if (problems.length > 0) throw new InputError(problems);
  const spec = toSpec(path, parsed.data as RawSpec);
  sources.set(spec, parsed);
  return spec;
}

/** Every problem of this text as the peer.yaml `file` would have it (init checks each answer with it). */
export function problemsInText(file: string, text: string): Problem[] {
  try {
    return problemsIn(parsePeerText(resolve(file), text));
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
}

/**
 * The structure's problems and the rules' beside them: the rules read what the schema found sound (a faulty
 * part is left out, and nothing is said twice about it); and a Tailscale key pasted anywhere. In the file's order.
 */
function problemsIn(parsed: ParsedFile): Problem[] {
  const schema = checkSchema(parsed);
  const { input, fields } = ruleInput(parsed.data as Record<string, unknown>, schema.faults);
  const rules = ruleProblems(parsed, input).filter((p) => !aboutLeftOut(p.field, fields));
  const found = [...schema.problems, ...rules];
  return [...found, ...pastedKeys(parsed, found)].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * A problem at a field of the spec's peer.yaml: at the field when it is written there, else at its nearest
 * written parent (a default token sits at machines.NAME). Without a source (a spec built in code), no position.
 */
export function problemAt(spec: Spec, path: (string | number)[], message: string): Problem {
  const parsed = sources.get(spec);
  return { file: spec.file, ...(parsed ? locate(parsed, path) : {}), field: path.join('.'), message };
}

/** file:~/x is the user's home (as a shell would read it); any other relative path is relative to peer.yaml. */
export const secretFilePath = (base: string, text: string) => (text === '~' || text.startsWith('~/') ? resolve(homedir(), text.slice(2)) : resolve(base, text));

function toSpec(file: string, raw: RawSpec): Spec {
  const base = dirname(file);
  const ref = (text: string): SecretRef =>
    text === 'generate'
      ? { kind: 'generate' }
      : text === 'generate-replace-weak'
        ? { kind: 'generate', replaceWeak: true }
        : text.startsWith('env:')
          ? { kind: 'env', name: text.slice(4) }
          : { kind: 'file', path: secretFilePath(base, text.slice(5)) };
  const optionalRef = (text?: string) => (text === undefined ? undefined : ref(text));

  const machines: MachineSpec[] = Object.entries(raw.machines).map(([name, m]) => ({
    name,
    ssh: sshTarget(m.ssh),
    tags: [stackTag(raw.name), machineTag(raw.name, name)],
    legacyTags: [stackTag(raw.name), legacyMachineTag(raw.name, name)],
    tailscale: {
      hostname: m.tailscale?.hostname ?? name,
      authKey: optionalRef(m.tailscale?.authKey),
      installUrl: m.tailscale?.installUrl ?? DEFAULT_INSTALL_URL,
      takeOver: m.tailscale?.takeOver ?? false,
    },
    gateway: {
      port: m.gateway?.port ?? DEFAULT_GATEWAY_PORT,
      token: ref(m.gateway?.token ?? 'generate'),
      a2a: {
        rateLimitPerMinute: m.gateway?.a2a?.rateLimitPerMinute ?? DEFAULT_A2A_RATE_LIMIT,
        ...(m.gateway?.a2a?.exposeAgents ? { exposeAgents: m.gateway.a2a.exposeAgents } : {}),
      },
      configPath: m.gateway?.configPath,
      restart: m.gateway?.restart,
    },
  }));

  const t = raw.tailnet;
  const credentials = t.credentials && {
    oauthClientId: optionalRef(t.credentials.oauthClientId),
    oauthClientSecret: optionalRef(t.credentials.oauthClientSecret),
    apiKey: optionalRef(t.credentials.apiKey),
  };
  return {
    file,
    version: 1,
    name: raw.name,
    sshConfig: raw.sshConfig === undefined ? undefined : resolve(base, raw.sshConfig),
    tailnet: {
      provider: t.provider,
      tailnet: t.tailnet ?? '-',
      backend: t.backend,
      credentials,
      keys: { expirySeconds: durationSeconds(t.keys?.expiry ?? DEFAULT_KEY_EXPIRY), ephemeral: t.keys?.ephemeral ?? false },
      acl: t.acl ?? 'merge',
      ...(t.controlUrl ? { controlUrl: t.controlUrl.replace(/\/+$/, '') } : {}),
      stackTag: stackTag(raw.name),
      ownerTag: ownerTag(raw.name),
    },
    machines,
    peers: raw.peers ? normalisePairs(raw.peers, machines) : everyPair(machines),
    friends: Object.entries(raw.friends ?? {}).map(([name, f]) => ({
      name,
      publicKey: f.publicKey,
      hostname: f.hostname ?? name,
      port: f.port ?? DEFAULT_GATEWAY_PORT,
      with: machines.map((m) => m.name).filter((m) => !f.with || f.with.includes(m)),
      tags: [stackTag(raw.name), machineTag(raw.name, name)],
    })),
  };
}

function sshTarget(text: string): SshTarget {
  if (text === 'local') return { kind: 'local' };
  const match = /^(?:([^@]+)@)?([^:@]+)(?::(\d+))?$/.exec(text)!;
  const [, user, host, port] = match;
  return { kind: 'ssh', destination: user ? `${user}@${host}` : host, user, host, port: port ? Number(port) : undefined };
}

/** Pairs in file order of the machines, each pair in file order too: stable output for plan and verify. */
function normalisePairs(pairs: [string, string][], machines: MachineSpec[]): [string, string][] {
  const order = (name: string) => machines.findIndex((m) => m.name === name);
  return pairs
    .map(([a, b]) => (order(a) <= order(b) ? [a, b] : [b, a]) as [string, string])
    .sort((x, y) => order(x[0]) - order(y[0]) || order(x[1]) - order(y[1]));
}

function everyPair(machines: MachineSpec[]): [string, string][] {
  return machines.flatMap((a, i) => machines.slice(i + 1).map((b) => [a.name, b.name] as [string, string]));
}
