// Step 3 of peer.yaml -> Spec: the rules a schema cannot say (cross-field, provider-specific, uniqueness).
import type { Problem } from '../errors.js';
import { durationSeconds } from './duration.js';
import { locate, type ParsedFile } from './parse.js';
import { machineTag } from './types.js';

/** The shape the schema has guaranteed. */
export interface RawSpec {
  version: 1;
  name: string;
  sshConfig?: string;
  tailnet: {
    provider: 'pulumi' | 'provided';
    tailnet?: string;
    backend?: string;
    credentials?: { oauthClientId?: string; oauthClientSecret?: string; apiKey?: string };
    keys?: { expiry?: string; ephemeral?: boolean };
    acl?: 'merge' | 'skip';
    controlUrl?: string;
  };
  machines: Record<
    string,
    {
      ssh: string;
      tailscale?: { hostname?: string; authKey?: string; installUrl?: string; takeOver?: boolean };
      gateway?: {
        port?: number;
        token?: string;
        a2a?: { rateLimitPerMinute?: number; exposeAgents?: string[] };
        configPath?: string;
        restart?: string;
      };
    }
  >;
  peers?: [string, string][];
  friends?: Record<string, { publicKey: string; hostname?: string; port?: number; with?: string[] }>;
}

/**
 * What the rules read: the spec, or as much of it as the schema found sound (rule-input.ts). A part may be
 * missing; machineNames are every machine named, for the peers (default: the machines given).
 */
export type RuleInput = Partial<Pick<RawSpec, 'name' | 'tailnet' | 'machines' | 'peers' | 'friends'>> & { machineNames?: string[] };

const MAX_KEY_EXPIRY_SECONDS = 90 * 86400; // Tailscale's limit for auth keys
const MAX_TAG_LENGTH = 63 + 'tag:'.length;

export function ruleProblems(parsed: ParsedFile, raw: RuleInput): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string, atKey = false) =>
    problems.push({ file: parsed.file, ...locate(parsed, path, atKey), field: path.join('.'), message });
  const machines = raw.machines ?? {};
  const names = Object.keys(machines);
  if (raw.tailnet) tailnetProblems(raw.tailnet, machines, add);
  machineProblems(parsed, raw.name, machines, add);
  if (raw.peers && (raw.machines || raw.machineNames)) peerProblems(raw.peers, raw.machineNames ?? names, add);
  if (raw.friends && (raw.machines || raw.machineNames)) friendProblems(raw.name, raw.friends, machines, raw.machineNames ?? names, add);
  return problems;
}

type Add = (path: (string | number)[], message: string, atKey?: boolean) => void;

function tailnetProblems(tailnet: RawSpec['tailnet'], machines: RawSpec['machines'], add: Add): void {
  const names = Object.keys(machines);

  if (tailnet.controlUrl !== undefined) {
    const problem =
      tailnet.provider === 'pulumi'
        ? 'is for provider provided: with provider pulumi the keys come from the Tailscale API, for its own control server'
        : controlUrlProblem(tailnet.controlUrl);
    if (problem) add(['tailnet', 'controlUrl'], problem);
  }

  if (tailnet.provider === 'pulumi') {
    const c = tailnet.credentials;
    const oauth = Boolean(c?.oauthClientId || c?.oauthClientSecret);
    if (!c || (!oauth && !c.apiKey)) {
      add(['tailnet', 'credentials'], 'provider pulumi needs credentials: oauthClientId + oauthClientSecret (recommended) or apiKey');
    } else if (oauth && !(c.oauthClientId && c.oauthClientSecret)) {
      add(
        ['tailnet', 'credentials', c.oauthClientId ? 'oauthClientSecret' : 'oauthClientId'],
        'an OAuth client needs both oauthClientId and oauthClientSecret',
      );
    } else if (oauth && c.apiKey) {
      add(['tailnet', 'credentials', 'apiKey'], 'give either an OAuth client or an apiKey, not both');
    }
    for (const name of names) {
      if (machines[name].tailscale?.authKey) {
        add(['machines', name, 'tailscale', 'authKey'], 'authKey is only for provider: provided; with provider: pulumi keys are minted', true);
      }
    }
  } else {
    for (const key of ['credentials', 'backend', 'keys', 'acl'] as const) {
      if (tailnet[key] !== undefined) {
        add(['tailnet', key], `${key} is only for provider: pulumi; with provider: provided, keys and policy are yours to manage`, true);
      }
    }
    for (const name of names) {
      if (!machines[name].tailscale?.authKey) {
        add(['machines', name, 'tailscale'], 'provider provided needs tailscale.authKey (env:NAME or file:PATH) on every machine');
      }
    }
  }

  if (tailnet.keys?.expiry && durationSeconds(tailnet.keys.expiry) > MAX_KEY_EXPIRY_SECONDS) {
    add(['tailnet', 'keys', 'expiry'], 'must be at most 90d (Tailscale auth keys expire within 90 days)');
  }
  if (tailnet.keys?.expiry && durationSeconds(tailnet.keys.expiry) === 0) {
    add(['tailnet', 'keys', 'expiry'], 'must be longer than 0');
  }
}

/** Each machine, and the machines compared: hostnames, ssh targets, one local. stack: the name, if sound. */
function machineProblems(parsed: ParsedFile, stack: string | undefined, machines: RawSpec['machines'], add: Add): void {
  const hostnames = new Map<string, string>();
  const targets = new Map<string, string>(); // ssh target -> the first machine reached through it
  const locals: string[] = [];
  for (const [name, machine] of Object.entries(machines)) {
    const hostname = machine.tailscale?.hostname ?? name;
    const other = hostnames.get(hostname);
    if (other) add(['machines', name, 'tailscale', 'hostname'], `tailscale hostname "${hostname}" is already used by machine ${other}`);
    hostnames.set(hostname, name);
    if (machine.ssh === 'local') locals.push(name);
    // Knowable offline: two entries with one ssh target are one machine (plan would find one machine id twice)
    const first = machine.ssh === 'local' ? undefined : targets.get(machine.ssh);
    if (first) {
      const at = locate(parsed, ['machines', first, 'ssh']);
      add(
        ['machines', name, 'ssh'],
        `ssh target "${machine.ssh}" is already machine ${first}'s (${parsed.file}${at.line ? `:${at.line}:${at.col ?? 1}` : ''}): two entries would be one machine; give each machine its own target`,
      );
    } else if (machine.ssh !== 'local') targets.set(machine.ssh, name);
    const tooLong = tagTooLong(stack, name);
    if (tooLong) add(['machines', name], tooLong, true);
    const installUrl = machine.tailscale?.installUrl;
    if (installUrl !== undefined) {
      const problem = installUrlProblem(installUrl);
      if (problem) add(['machines', name, 'tailscale', 'installUrl'], problem);
    }
    const port = /:(\d+)$/.exec(machine.ssh)?.[1];
    if (port && (Number(port) < 1 || Number(port) > 65535)) add(['machines', name, 'ssh'], `port ${port} is not between 1 and 65535`);
  }
  if (locals.length > 1) {
    add(['machines', locals[1], 'ssh'], `only one machine can be local (already: ${locals[0]})`);
  }
}

function peerProblems(peers: [string, string][], names: string[], add: Add): void {
  const pairs = new Set<string>();
  peers.forEach((pair, index) => {
    const [a, b] = pair;
    for (const [i, member] of pair.entries()) {
      if (!names.includes(member)) add(['peers', index, i], `no machine named "${member}" (machines: ${names.join(', ')})`);
    }
    if (a === b) add(['peers', index], `a machine cannot be its own peer (${a})`);
    const id = [a, b].sort().join('\0');
    if (pairs.has(id)) add(['peers', index], `pair ${a}, ${b} is listed twice`);
    pairs.add(id);
  });
}

/** Why the machine tag of `name` (a machine's or a friend's) cannot be, when the stack name is known and it is too long. */
const tagTooLong = (stack: string | undefined, name: string) =>
  stack !== undefined && machineTag(stack, name).length > MAX_TAG_LENGTH
    ? `name plus stack name is too long for a Tailscale tag (${machineTag(stack, name)})`
    : undefined;

/**
 * A friend's name is their machine's peer name on the A2A channel and in its tag: never a machine's. Their hostname
 * is a node on the same tailnet: never a machine's either. `with` names machines.
 */
function friendProblems(stack: string | undefined, friends: NonNullable<RawSpec['friends']>, machines: RawSpec['machines'], names: string[], add: Add): void {
  const hostnames = new Map(Object.entries(machines).map(([name, m]) => [m.tailscale?.hostname ?? name, `machine ${name}`]));
  for (const [name, friend] of Object.entries(friends)) {
    if (names.includes(name)) add(['friends', name], `"${name}" is already a machine's name: a friend needs a name of their own`, true);
    const tooLong = tagTooLong(stack, name);
    if (tooLong) add(['friends', name], tooLong, true);
    const hostname = friend.hostname ?? name;
    // the A2A channel names a machine by its name and a friend's machine by its hostname: the two never meet
    const other = hostnames.get(hostname) ?? (names.includes(hostname) && hostname !== name ? `machine ${hostname} (as its A2A peer name)` : undefined);
    if (other)
      add(['friends', name, ...(friend.hostname ? ['hostname'] : [])], `tailscale hostname "${hostname}" is already used by ${other}`, !friend.hostname);
    hostnames.set(hostname, `friend ${name}`);
    (friend.with ?? []).forEach((machine, index) => {
      if (!names.includes(machine)) add(['friends', name, 'with', index], `no machine named "${machine}" (machines: ${names.join(', ')})`);
    });
  }
}

const parsedUrl = (text: string): URL | undefined => {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
};

/** The schema has checked http(s):// and no spaces or control characters; here what only a URL parser can tell. */
function controlUrlProblem(text: string): string | undefined {
  const url = parsedUrl(text);
  if (!url) return 'is not a valid URL';
  if (url.username || url.password) return 'must not hold credentials (user:password@): they would show in plans, logs and the process list';
  if (url.search || url.hash) return "must be the server's base URL, without ?query or #fragment";
  return undefined;
}

/** The schema has checked https:// and no control characters; here what only a URL parser can tell. */
function installUrlProblem(text: string): string | undefined {
  const url = parsedUrl(text);
  if (!url) return 'is not a valid URL';
  if (url.protocol !== 'https:') return 'must be an https:// URL';
  if (url.username || url.password) {
    return 'must not hold credentials (user:password@): they would show in plans, logs and the process list; put the mirror behind a network rule or a token-free URL';
  }
  if (!url.hostname) return 'names no host';
  return undefined;
}
